import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embeddedPostgres.js';
import { createLogger } from '../../src/lib/logger.js';
import { KilnClient } from '../../src/sdk/client.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

/**
 * PostgreSQL failing under a running kiln, with real processes: backends killed under concurrent requests, and a
 * dedicated cluster's postmaster SIGKILLed in the middle of a build (never the suite's shared cluster).
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('backends killed under concurrent requests', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
  });
  after(async () => srv.close());

  it('answers no 5xx to reads while every backend of its database is terminated, again and again', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId);
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const paths = ['/api/v2/users/me', '/api/v2/workspaces', `/api/v2/workspaces/${ws.id}`, `/api/v2/workspaces/${ws.id}/builds`, `/api/v2/templates/${template.id}`];
    const admin = new pg.Client({ connectionString: process.env.KILN_TEST_PG_URL });
    await admin.connect();
    let done = 0;
    let stop = false;
    const bad: string[] = [];
    const worker = async (w: number) => {
      for (let i = w; !stop; i++) {
        const p = paths[i % paths.length] as string;
        const res = await fetch(srv.url + p, { headers: { 'Coder-Session-Token': owner.client.token as string } });
        const text = await res.text();
        if (res.status >= 500) bad.push(`${p} → ${res.status} ${text}`);
        done++;
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    try {
      for (let round = 0; round < 8; round++) {
        // Every connection of this test's own database, the server's pools and its pubsub included.
        const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [srv.db.name]);
        assert.ok((rowCount ?? 0) > 0, 'backends were terminated');
        const target = done + 30;
        await waitFor(() => done >= target, 'requests to go on after the kill', 30_000);
      }
    } finally {
      stop = true;
      await Promise.all(workers);
      await admin.end();
    }
    assert.deepEqual(bad, [], `${bad.length} of ${done} requests answered 5xx`);
    assert.ok(done >= 240);
  });
});

/** The command line and user of a running postmaster, to start it again exactly as it was after killing it. */
async function postmasterLaunch(pid: number): Promise<{ argv: string[]; uid: number; gid: number }> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  const gid = Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]);
  return { argv, uid, gid };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the postmaster SIGKILLed in the middle of a build', () => {
  let dir: string;
  let cluster: EmbeddedPostgres;
  let restarted: ChildProcess | undefined;
  let kiln: ChildProcess | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-pgloss-'));
    // The cluster runs as the postgres user when the suite runs as root: it must be able to enter the directory.
    await chmod(dir, 0o755);
    // Not supervised: this cluster plays an external PostgreSQL that goes down and is brought back by the test. Durable
    // (not ephemeral): with synchronous_commit off, rows committed just before the SIGKILL would be lost by PostgreSQL
    // itself, which is not what this test is about.
    cluster = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), logger: createLogger('silent'), supervise: false });
  });
  after(async () => {
    if (kiln && kiln.exitCode === null && kiln.signalCode === null) kiln.kill('SIGKILL');
    if (restarted?.pid && alive(restarted.pid)) {
      restarted.kill('SIGINT');
      await waitFor(() => !alive(restarted?.pid as number), 'the restarted postmaster to stop', 20_000).catch(() => restarted?.kill('SIGKILL'));
    }
    await cluster.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no log line, does not spin, reports 503 while down, and still stops on SIGTERM', async () => {
    const LINES = 120;
    kiln = spawn(
      process.execPath,
      ['bin/kiln.js', 'server', '--postgres-url', cluster.url, '--address', '127.0.0.1:0', '--data-dir', path.join(dir, 'kiln'), '--provisioner-daemons', '1', '--log-level', 'debug'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => kiln?.once('exit', (code, signal) => resolve({ code, signal })));
    let out = '';
    kiln.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    kiln.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], 'kiln to listen', 60_000);
    const anon = new KilnClient(url);
    const first = await anon.createFirstUser({ email: 'o@example.com', username: 'o', password: 'owner-password' });
    const owner = new KilnClient(url);
    await owner.login('o@example.com', 'owner-password');
    const echo = { start: { delay_ms: 40, logs: Array.from({ length: LINES }, (_, i) => ({ output: `line ${i + 1}` })) } };
    const { template } = await createEchoTemplate(owner, first.organization_id, echo);
    const ws = await createWorkspace(owner, first.organization_id, template.id);
    const buildId = ws.latest_build.id;
    await waitFor(async () => (await owner.workspaceBuildLogs(buildId)).some((l) => l.output === 'line 5'), 'the build to be logging');

    // Kill the postmaster outright; its backends follow it.
    const launch = await postmasterLaunch(cluster.pid);
    process.kill(cluster.pid, 'SIGKILL');
    await waitFor(async () => (await fetch(`${url}/healthz`)).status === 503, '/healthz to report the database down', 30_000);
    const health = await fetch(`${url}/healthz`);
    assert.equal(((await health.json()) as { message: string }).message, 'The database is unavailable.');
    assert.equal((await fetch(`${url}/livez`)).status, 200, 'liveness stays up');
    // The build goes on logging while the database is down: wait until several update attempts have failed.
    await waitFor(() => (out.match(/job update failed again/g) ?? []).length >= 3, 'a few retries with backoff', 30_000);

    // Start the same postmaster again, as it was.
    await waitFor(async () => {
      const { stdout } = await new Promise<{ stdout: string }>((resolve) => {
        const ps = spawn('pgrep', ['-f', path.join(dir, 'pg')]);
        let s = '';
        ps.stdout.on('data', (d: Buffer) => (s += d.toString()));
        ps.on('close', () => resolve({ stdout: s }));
      });
      return stdout.trim() === '';
    }, 'the old backends to exit', 20_000);
    await waitFor(async () => {
      restarted = spawn(launch.argv[0] as string, launch.argv.slice(1), { uid: launch.uid, gid: launch.gid, detached: true, stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
      restarted.unref();
      const r = restarted;
      return waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 'the database to come back', 20_000).catch(() => {
        if (r.pid && alive(r.pid)) r.kill('SIGKILL');
        return false;
      });
    }, 'PostgreSQL to start again', 60_000);

    const build = await waitForBuild(owner, buildId, undefined, 90_000);
    assert.equal(build.job.status, 'succeeded', build.job.error);
    const outputs = (await owner.workspaceBuildLogs(buildId)).map((l) => l.output).filter((o) => o.startsWith('line '));
    assert.deepEqual(outputs, Array.from({ length: LINES }, (_, i) => `line ${i + 1}`), 'every line, once, in order');

    // No hot loop: one warn line when updates began failing, the rest at debug level, bounded by the backoff.
    const warns = out.split('\n').filter((l) => l.includes('"level":40') && l.includes('job update failed'));
    assert.equal(warns.length, 1, warns.join('\n'));
    const retries = (out.match(/job update failed again/g) ?? []).length;
    assert.ok(retries < 200, `${retries} retries: the daemon spun instead of backing off`);
    assert.match(out, /job updates resumed/);

    // Down again, and SIGTERM: the process still ends, within its shutdown bound.
    restarted?.kill('SIGKILL');
    await waitFor(async () => (await fetch(`${url}/healthz`)).status === 503, 'the database down again', 30_000);
    kiln.kill('SIGTERM');
    const { code, signal } = await Promise.race([
      exited,
      new Promise<never>((_r, reject) => setTimeout(() => reject(new Error(`kiln did not exit after SIGTERM:\n${out.slice(-3000)}`)), 70_000).unref()),
    ]);
    assert.equal(signal, null);
    assert.ok(code === 0 || code === 1, `exit code ${code}`);
  });
});
