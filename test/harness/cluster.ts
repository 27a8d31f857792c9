// Real processes for scale-out tests: `kiln server` replicas on one database, `kiln provisionerd start` daemons (one
// may run in its own network namespace), a failover TCP proxy standing in for a load balancer.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

import { waitFor } from './wait.js';

const run = promisify(execFile);
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'kiln.js');

export interface Proc {
  child: ChildProcess;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

function startProc(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const p: Proc = {
    child,
    output: () => out,
    exited: false,
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    async kill9() {
      child.kill('SIGKILL');
      await p.exit;
    },
    async stop() {
      if (p.exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await p.exit;
      clearTimeout(t);
    },
  };
  void p.exit.then(() => (p.exited = true));
  return p;
}

export interface Replica extends Proc {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  dataDir: string;
}

/** A `kiln server` on `postgresUrl`, listening on every address (a daemon in a namespace reaches it over the veth). */
export async function startReplica(postgresUrl: string, extra: string[] = []): Promise<Replica> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-replica-'));
  const p = startProc(process.execPath, [BIN, 'server', '--address', '0.0.0.0:0', '--postgres-url', postgresUrl, '--data-dir', dataDir, '--log-level', 'info', ...extra]);
  const port = await Promise.race([
    waitFor(() => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(p.output());
      return m ? Number(m[1]) : undefined;
    }, 'the replica to listen', 30_000),
    p.exit.then(({ code }) => Promise.reject(new Error(`kiln server exited (${code}) before listening:\n${p.output()}`))),
  ]);
  const url = `http://127.0.0.1:${port}`;
  const stop = p.stop;
  return Object.assign(p, {
    url,
    port,
    dataDir,
    async stop() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}

/** `kiln provisionerd start`, optionally inside a network namespace. */
export function startDaemon(args: string[], opts: { netns?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const base = [BIN, 'provisionerd', 'start', '--log-level', 'info', ...args];
  return opts.netns ? startProc('ip', ['netns', 'exec', opts.netns, process.execPath, ...base], opts.env) : startProc(process.execPath, base, opts.env);
}

export interface NetNs {
  name: string;
  /** The host's address on the veth pair, as seen from inside the namespace. */
  hostIp: string;
  nsIp: string;
  remove(): Promise<void>;
}

/** Whether this machine lets us create network namespaces (root, iproute2); the reason when not. */
export async function netnsUnavailable(): Promise<string | undefined> {
  const probe = `kp${randomBytes(3).toString('hex')}`;
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'del', probe]);
    return undefined;
  } catch (e) {
    return `ip netns is not usable here: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** A namespace joined to the host by a veth pair on a random 10.x.y.0/30: a second host, inside this machine. */
export async function createNetNs(): Promise<NetNs> {
  const id = randomBytes(3).toString('hex');
  const name = `kiln${id}`;
  const hostIf = `kv${id}a`;
  const nsIf = `kv${id}b`;
  const a = 100 + (parseInt(id.slice(0, 2), 16) % 150);
  const b = parseInt(id.slice(2, 4), 16);
  const c = (parseInt(id.slice(4, 6), 16) % 63) * 4;
  const hostIp = `10.${a}.${b}.${c + 1}`;
  const nsIp = `10.${a}.${b}.${c + 2}`;
  const remove = async () => {
    await run('ip', ['netns', 'del', name]).catch(() => {});
    await run('ip', ['link', 'del', hostIf]).catch(() => {});
  };
  try {
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    await run('ip', ['link', 'set', nsIf, 'netns', name]);
    await run('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await run('ip', ['netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf]);
    await run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up']);
    await run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (e) {
    await remove();
    throw e;
  }
  return { name, hostIp, nsIp, remove };
}

export interface FailoverProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * A load balancer in miniature: each connection goes to the first backend that accepts it, so a killed replica's
 * clients land on the next one when they reconnect.
 */
export async function startFailoverProxy(backends: number[]): Promise<FailoverProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    client.pause();
    const tryBackend = (i: number) => {
      if (i >= backends.length) return client.destroy();
      const up = net.connect(backends[i] as number, '127.0.0.1');
      up.once('error', () => tryBackend(i + 1));
      up.once('connect', () => {
        sockets.add(up);
        up.removeAllListeners('error');
        up.on('error', () => client.destroy());
        up.on('close', () => {
          sockets.delete(up);
          client.destroy();
        });
        client.on('close', () => up.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** `kiln <args>` as a real process, e.g. `logs dev -f` with KILN_URL and KILN_SESSION_TOKEN in `env`. */
export function startCliProc(args: string[], env: NodeJS.ProcessEnv): Proc {
  return startProc(process.execPath, [BIN, ...args], { NO_COLOR: '1', ...env });
}
