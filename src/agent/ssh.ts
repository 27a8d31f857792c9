import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

import ssh2 from 'ssh2';
import type { IPty } from '@lydell/node-pty';

import type { Logger } from '../lib/logger.js';

import { duplexPair } from './duplexPair.js';
import { loadPty, userShell, type PtyEnvironment } from './pty.js';

type ServerChannel = ssh2.ServerChannel;
const SFTP_SERVERS = ['/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server', '/usr/libexec/sftp-server', '/usr/lib/ssh/sftp-server'];

function findSftpServer(): string | undefined {
  return SFTP_SERVERS.find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The agent's SSH server. It listens on no port: each `ssh` stream of the tunnel (docs/agent-protocol.md) is one SSH
 * connection handed to it, so the only way in is through the server, which has authenticated and authorised the
 * user. SSH authentication is therefore accepted as is (as Coder's agent does). It serves shells and commands (with
 * or without a PTY, window changes, environment, signals, exit status), the `sftp` subsystem (the system's
 * sftp-server, as OpenSSH does: scp, sftp, rsync and VS Code use it), and `direct-tcpip` forwarding to the workspace.
 */
export class SshServer {
  readonly #server: ssh2.Server;

  constructor(
    private readonly environment: PtyEnvironment,
    private readonly logger: Logger,
  ) {
    const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
    this.#server = new ssh2.Server({ hostKeys: [hostKey], ident: 'kiln-agent' }, (client) => this.#client(client));
  }

  /** A new SSH connection over a tunnel stream: the returned end is joined with that stream. */
  async open(): Promise<Duplex> {
    const [ours, theirs] = duplexPair();
    this.#server.injectSocket(ours as never);
    return theirs;
  }

  #client(client: ssh2.Connection): void {
    client.on('authentication', (ctx) => ctx.accept());
    client.on('error', (e) => this.logger.debug({ err: e.message }, 'ssh connection error'));
    client.on('ready', () => {
      client.on('session', (accept) => this.#session(accept()));
      client.on('tcpip', (accept, reject, info) => {
        const sock = net.connect({ host: info.destIP, port: info.destPort });
        sock.once('connect', () => {
          const ch = accept();
          ch.pipe(sock).pipe(ch);
          const end = () => (sock.destroy(), ch.destroy());
          sock.on('error', end);
          ch.on('error', end);
          sock.on('close', () => ch.end());
        });
        sock.once('error', () => reject());
      });
    });
  }

  #session(session: ssh2.Session): void {
    const env: Record<string, string> = {};
    let pty: { term: string; cols: number; rows: number } | undefined;
    let running: { pty?: IPty; child?: ChildProcess } = {};
    session.on('env', (accept, _reject, info) => {
      env[info.key] = info.val;
      accept?.();
    });
    session.on('pty', (accept, _reject, info) => {
      pty = { term: info.term || 'xterm-256color', cols: info.cols || 80, rows: info.rows || 24 };
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (pty) pty = { ...pty, cols: info.cols, rows: info.rows };
      running.pty?.resize(Math.max(1, info.cols), Math.max(1, info.rows));
      accept?.();
    });
    session.on('signal', (accept, _reject, info) => {
      const sig = `SIG${info.name}` as NodeJS.Signals;
      try {
        if (running.pty) process.kill(running.pty.pid, sig);
        else running.child?.kill(sig);
      } catch {
        // Gone already.
      }
      accept?.();
    });
    session.on('auth-agent', (_accept, reject) => reject?.());
    const start = (command: string | undefined, accept: () => ServerChannel) => {
      const channel = accept();
      this.#run(channel, command, { ...this.environment.env(), ...env }, pty)
        .then((r) => (running = r))
        .catch((e: unknown) => {
          channel.stderr.write(`kiln agent: ${(e as Error).message}\r\n`);
          channel.exit(127);
          channel.end();
        });
    };
    session.on('shell', (accept) => start(undefined, accept));
    session.on('exec', (accept, _reject, info) => start(info.command, accept));
    session.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp') return reject();
      // Answered within the event: ssh2 does not deliver a subsystem reply given later.
      const bin = findSftpServer();
      if (!bin) return reject();
      {
        const channel = accept();
        const child = spawn(bin, [], { cwd: this.environment.cwd(), env: this.environment.env(), stdio: ['pipe', 'pipe', 'ignore'] });
        channel.pipe(child.stdin);
        // Not ended with stdout: ssh2 closes a channel when its writing side ends, and the exit status must go first.
        child.stdout.pipe(channel, { end: false });
        child.on('close', (code) => {
          channel.exit(code ?? 0);
          channel.end();
        });
        channel.on('close', () => child.kill());
      }
    });
  }

  /** A shell (no command) or `<shell> -c <command>`, on a PTY when the client asked for one, else on pipes. */
  async #run(channel: ServerChannel, command: string | undefined, env: NodeJS.ProcessEnv, tty: { term: string; cols: number; rows: number } | undefined): Promise<{ pty?: IPty; child?: ChildProcess }> {
    const shell = userShell(env);
    const cwd = this.environment.cwd();
    const args = command === undefined ? (tty ? ['-l'] : []) : ['-c', command];
    if (tty) {
      const m = await loadPty();
      const p = m.spawn(shell, args, { name: tty.term, cols: tty.cols, rows: tty.rows, cwd, env: { ...env, TERM: tty.term } as Record<string, string> });
      const decoder = new StringDecoder('utf8');
      channel.on('data', (d: Buffer) => p.write(decoder.write(d)));
      p.onData((d) => channel.write(d));
      p.onExit(({ exitCode, signal }) => {
        if (signal) channel.exit(signalName(signal), false, '');
        else channel.exit(exitCode);
        channel.end();
      });
      channel.on('close', () => {
        try {
          p.kill('SIGHUP');
        } catch {
          // Exited.
        }
      });
      return { pty: p };
    }
    const child = spawn(shell, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    channel.pipe(child.stdin);
    child.stdin.on('error', () => {});
    child.stdout.pipe(channel, { end: false });
    child.stderr.pipe(channel.stderr, { end: false });
    let outputs = 2;
    let status: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    // The exit status goes after the last output byte, as OpenSSH does.
    const finish = () => {
      if (outputs > 0 || !status) return;
      if (status.signal) channel.exit(status.signal.replace(/^SIG/, ''), false, '');
      else channel.exit(status.code ?? 0);
      channel.end();
    };
    child.stdout.on('end', () => (outputs--, finish()));
    child.stderr.on('end', () => (outputs--, finish()));
    child.on('exit', (code, signal) => ((status = { code, signal }), finish()));
    child.on('error', (e) => {
      channel.stderr.write(`kiln agent: ${e.message}\n`);
      channel.exit(127);
      channel.end();
    });
    channel.on('close', () => child.kill('SIGHUP'));
    return { child };
  }
}

function signalName(n: number): string {
  const names: Record<number, string> = { 1: 'HUP', 2: 'INT', 3: 'QUIT', 6: 'ABRT', 9: 'KILL', 13: 'PIPE', 15: 'TERM' };
  return names[n] ?? 'KILL';
}
