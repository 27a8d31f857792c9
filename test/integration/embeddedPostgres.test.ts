import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createLogger, type LogLevel } from '../../src/lib/logger.js';
import { KilnClient } from '../../src/sdk/client.js';
import { startServer, type RunningServer, type ServerConfig } from '../../src/server/server.js';
import { isRunning } from '../harness/local.js';
import { waitFor } from '../harness/wait.js';

/** Inodes of the TCP sockets listening on this host (IPv4 and IPv6). */
async function tcpListenInodes(): Promise<Set<string>> {
  const out = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(f, 'utf8').catch(() => '')).split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[9]) out.add(cols[9]);
    }
  }
  return out;
}

/** The socket inodes a process holds open. */
async function socketInodes(pid: number): Promise<string[]> {
  const out: string[] = [];
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (m) out.push(m[1] as string);
  }
  return out;
}

describe('the embedded PostgreSQL (its own cluster, not the suite\'s)', () => {
  let dataDir: string;
  let server: RunningServer | undefined;
  const logger = createLogger((process.env.KILN_TEST_LOG as LogLevel | undefined) ?? 'silent');
  const config = (): ServerConfig => ({
    address: '127.0.0.1:0',
    dataDir,
    provisionerDaemons: 0,
    logLevel: 'error',
    sessionDurationMs: 3600_000,
    maxFileBytes: 1024 * 1024,
    jobHangTimeoutMs: 300_000,
    jobPendingTimeoutMs: 300_000,
    // Durable on purpose: with synchronous_commit off (the ephemeral tuning) a postmaster killed right after a commit
    // loses it with the WAL buffers, and the user this file creates before the SIGKILL would be gone afterwards.
    ephemeralPostgres: false,
    overrides: { passwordHashCost: 1024 },
  });

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-pg-'));
  });
  after(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('listens on a unix socket only, in a 0700 directory; the password file is 0600', async () => {
    server = await startServer(config(), logger);
    const pg = server.api.postgres;
    assert.ok(pg);
    const url = new URL(pg.url);
    const socketDir = url.searchParams.get('host') as string;
    assert.equal(socketDir, path.join(dataDir, 'pg-socket'));
    const dirStat = await stat(socketDir);
    assert.equal(dirStat.mode & 0o777, 0o700);
    assert.equal((await stat(path.join(dataDir, 'postgres-password'))).mode & 0o777, 0o600);
    // No socket of the postmaster is a listening TCP socket.
    const listening = await tcpListenInodes();
    const held = await socketInodes(pg.pid);
    assert.ok(held.length > 0, 'the postmaster holds its unix socket');
    assert.deepEqual(held.filter((i) => listening.has(i)), []);
  });

  it('SIGKILL of the postmaster: kiln restarts it and serves again within 30 s', async () => {
    const s = server as RunningServer;
    const client = new KilnClient(s.url);
    await client.createFirstUser({ email: 'pg@example.com', username: 'pg', password: 'a-long-password' });
    await client.login('pg@example.com', 'a-long-password');
    const pg = s.api.postgres as NonNullable<RunningServer['api']['postgres']>;
    const before = pg.pid;
    process.kill(before, 'SIGKILL');
    await waitFor(async () => !(await isRunning(before)), 'the postmaster is gone');
    const me = await waitFor(async () => {
      try {
        return await client.user('me');
      } catch {
        return undefined;
      }
    }, 'a database-backed request succeeds again', 30_000);
    assert.equal(me.username, 'pg');
    // The new postmaster accepts connections while the supervisor still waits for it to be ready: the supervisor
    // records it (pid, restart count) a moment after the first request may already have succeeded.
    await waitFor(() => pg.restarts > 0, 'the supervisor to record the restart');
    assert.notEqual(pg.pid, before);
    assert.equal(pg.restarts, 1);
    await s.close();
    server = undefined;
  });

  it('a stale postmaster.pid naming a process that is not this cluster\'s postgres is not acted on', async () => {
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      await writeFile(path.join(dataDir, 'postgres', 'postmaster.pid'), `${sleeper.pid}\n${path.join(dataDir, 'postgres')}\n`);
      server = await startServer(config(), logger);
      assert.equal(await isRunning(sleeper.pid as number), true, 'the process named by the stale file was not signalled');
      const res = await fetch(`${server.url}/api/v2/users/first`);
      assert.equal(res.status, 200, 'the server works on the restarted cluster');
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
