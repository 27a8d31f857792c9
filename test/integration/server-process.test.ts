// The real `kiln server` as a child process: start, persist, SIGTERM, restart, external PostgreSQL, two at once.
// Needs dist/ (npm test builds it first).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js';
import { loadMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/lib/logger.js';
import { createEmptyDatabase } from '../harness/db.js';

import { request, waitFor } from './envelope.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(root, 'bin', 'kiln.js');

interface Kiln {
  child: ChildProcess;
  output(): string;
  url: Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Kiln[] = [];

function startKiln(args: string[]): Kiln {
  const child = spawn(process.execPath, [BIN, 'server', '--address', '127.0.0.1:0', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KILN_LOG_LEVEL: 'info' },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = Promise.race([
    waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], 'kiln to print its URL', 30_000),
    exit.then(({ code }) => Promise.reject(new Error(`kiln exited (${code}) before listening:\n${out}`))),
  ]);
  url.catch(() => {});
  const k = { child, output: () => out, url, exit };
  children.push(k);
  return k;
}

async function waitHealthy(k: Kiln): Promise<string> {
  const url = await k.url;
  await waitFor(async () => (await request(url, 'GET', '/healthz')).status === 200, '/healthz', 15_000);
  return url;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function stop(k: Kiln, signal: NodeJS.Signals = 'SIGTERM') {
  k.child.kill(signal);
  return withTimeout(k.exit, 30_000, `kiln to exit:\n${k.output()}`);
}

/** Pids of live processes whose command line mentions `needle`. */
async function processesMentioning(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = (await readFile(`/proc/${e}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      // gone already
    }
  }
  return out;
}

/** The postmaster of a data dir and its children (checkpointer, walwriter… do not name the data dir). */
async function postgresProcesses(dataDir: string): Promise<number[]> {
  const postmaster = Number((await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const pids = [postmaster];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = await readFile(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(e));
    } catch {
      // gone already
    }
  }
  return pids;
}

async function isPostgres(pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim() === 'postgres';
  } catch {
    return false;
  }
}

const exists = (p: string) => access(p).then(() => true, () => false);

describe('kiln server process', () => {
  const tmps: string[] = [];
  const tmp = async (prefix: string) => {
    const d = await mkdtemp(path.join(os.tmpdir(), prefix));
    tmps.push(d);
    return d;
  };
  after(async () => {
    // A failed test may leave a child running: stop it (and so its PostgreSQL) before removing its files.
    for (const k of children) if (k.child.exitCode === null && k.child.signalCode === null) await stop(k).catch(() => k.child.kill('SIGKILL'));
    for (const d of tmps) await rm(d, { recursive: true, force: true });
  });

  it('starts on an embedded PostgreSQL, drains and stops it all on SIGTERM, and keeps the data for the next start', async () => {
    const dataDir = await tmp('kiln-proc-');
    const first = startKiln(['--data-dir', dataDir]);
    const url = await waitHealthy(first);
    await waitFor(() => /No user exists yet\. Create the first one/.test(first.output()), 'the first-user hint');

    const created = await request(url, 'POST', '/api/v2/users/first', { json: { email: 'admin@example.com', username: 'admin', password: 'a-long-password' } });
    assert.equal(created.status, 201, created.text);
    const login = await request(url, 'POST', '/api/v2/users/login', { json: { email: 'admin@example.com', password: 'a-long-password' } });
    const token = (login.body as { session_token: string }).session_token;

    const pids = await postgresProcesses(dataDir);
    assert.ok(pids.length > 1 && (await isPostgres(pids[0] as number)), `postgres processes: ${pids}`);
    assert.ok((await processesMentioning(dataDir)).length > 0);

    // A request in flight when the signal comes: headers sent, body not yet.
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    let response = '';
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', () => {});
    const body = Buffer.alloc(2048, 1);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(`POST /api/v2/files HTTP/1.1\r\nHost: ${hostname}\r\nCoder-Session-Token: ${token}\r\nContent-Type: application/x-tar\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, 1024));
    // A later request answered means the server has read the first one's headers.
    assert.equal((await request(url, 'GET', '/healthz')).status, 200);

    first.child.kill('SIGTERM');
    // New connections are refused at once…
    await waitFor(async () => {
      try {
        await fetch(new URL('/healthz', url));
        return false;
      } catch {
        return true;
      }
    }, 'the listener to close');
    // …while the request in flight completes.
    socket.write(body.subarray(1024));
    await waitFor(() => /\r\n\r\n\{"hash":"[0-9a-f-]{36}"\}/.test(response), 'the in-flight upload to be answered');
    assert.match(response, /^HTTP\/1\.1 201 /);
    socket.destroy();

    const stopped = await withTimeout(first.exit, 30_000, 'kiln to exit');
    assert.deepEqual(stopped, { code: 0, signal: null }, first.output());
    assert.match(first.output(), /kiln stopped/);
    for (const pid of pids) assert.equal(await isPostgres(pid), false, `postgres ${pid} outlived the server`);
    assert.deepEqual(await processesMentioning(dataDir), []);
    assert.equal(await exists(path.join(dataDir, 'postgres', 'postmaster.pid')), false, 'PostgreSQL shut down cleanly');

    // The second start reuses the cluster (no new initdb: the cluster's PG_VERSION file is the same file), and the first
    // user is still there.
    const clusterBefore = await stat(path.join(dataDir, 'postgres', 'PG_VERSION'));
    const second = startKiln(['--data-dir', dataDir]);
    const url2 = await waitHealthy(second);
    const clusterAfter = await stat(path.join(dataDir, 'postgres', 'PG_VERSION'));
    assert.deepEqual([clusterAfter.ino, clusterAfter.mtimeMs], [clusterBefore.ino, clusterBefore.mtimeMs], 'the cluster was reused, not initialised again');
    assert.doesNotMatch(second.output(), /No user exists yet/);
    assert.equal((await request(url2, 'GET', '/api/v2/users/first')).status, 200);
    const again = await request(url2, 'POST', '/api/v2/users/login', { json: { email: 'admin@example.com', password: 'a-long-password' } });
    assert.equal(again.status, 201);
    const pids2 = await postgresProcesses(dataDir);

    assert.deepEqual(await stop(second, 'SIGINT'), { code: 0, signal: null }, second.output());
    for (const pid of pids2) assert.equal(await isPostgres(pid), false, `postgres ${pid} outlived the server`);
    assert.deepEqual(await processesMentioning(dataDir), []);
  });

  it('a SIGTERM while PostgreSQL is still starting stops it too', async () => {
    const dataDir = await tmp('kiln-proc-early-');
    const k = startKiln(['--data-dir', dataDir, '--provisioner-daemons', '0']);
    // The moment the postmaster exists, before the server is ready.
    await waitFor(() => exists(path.join(dataDir, 'postgres', 'postmaster.pid')), 'PostgreSQL to start', 30_000, 5);
    k.child.kill('SIGTERM');
    assert.deepEqual(await withTimeout(k.exit, 30_000, 'kiln to exit'), { code: 0, signal: null }, k.output());
    assert.deepEqual(await processesMentioning(dataDir), []);
    assert.equal(await exists(path.join(dataDir, 'postgres', 'postmaster.pid')), false, k.output());
  });

  it('runs on an external PostgreSQL given by --postgres-url and leaves it running', async () => {
    const pgDir = await tmp('kiln-extpg-');
    const dataDir = await tmp('kiln-proc-ext-');
    const cluster = await startEmbeddedPostgres({ dataDir: pgDir, logger: createLogger('silent'), ephemeral: true });
    try {
      const k = startKiln(['--postgres-url', cluster.url, '--data-dir', dataDir, '--provisioner-daemons', '0', '--terraform-path', '/nonexistent/terraform']);
      const url = await waitHealthy(k);
      assert.match(k.output(), /data: external PostgreSQL/);
      // No usable terraform: the server says terraform is off, and why.
      assert.match(k.output(), /^terraform: off \(\/nonexistent\/terraform version failed: .*\)/m);
      const created = await request(url, 'POST', '/api/v2/users/first', { json: { email: 'ext@example.com', username: 'ext', password: 'a-long-password' } });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(await stop(k), { code: 0, signal: null }, k.output());
      assert.equal(await exists(path.join(dataDir, 'postgres')), false, 'no embedded cluster was made');

      const c = new pg.Client({ connectionString: cluster.url });
      await c.connect();
      try {
        const { rows } = await c.query<{ username: string }>('SELECT username FROM users');
        assert.deepEqual(rows, [{ username: 'ext' }], 'the external database keeps the data and still runs');
      } finally {
        await c.end();
      }
    } finally {
      await cluster.stop();
    }
  });

  it('two servers starting at once on one empty database migrate it once and both serve', async () => {
    const db = await createEmptyDatabase();
    try {
      const dirs = [await tmp('kiln-twin-'), await tmp('kiln-twin-')];
      const twins = dirs.map((d) => startKiln(['--postgres-url', db.url, '--data-dir', d, '--provisioner-daemons', '0']));
      const urls = await Promise.all(twins.map(waitHealthy));
      for (const u of urls) assert.equal((await request(u, 'GET', '/api/v2/buildinfo')).status, 200);
      const migrated = twins.map((k) => k.output().split('\n').filter((l) => l.includes('"database migrated"')).length);
      assert.deepEqual(migrated.sort(), [0, 1], 'exactly one server applied the migrations');

      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
        assert.equal(rows[0]?.n, (await loadMigrations()).length);
      } finally {
        await c.end();
      }
      for (const k of twins) assert.deepEqual(await stop(k), { code: 0, signal: null }, k.output());
    } finally {
      await db.drop();
    }
  });
});
