import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import type { ServerContext } from '../../src/api/context.js';
import { startServer } from '../../src/server/server.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { acquireJob } from '../../src/jobs/acquire.js';
import { jobLogsChannel } from '../../src/jobs/channels.js';
import { completeJob } from '../../src/jobs/complete.js';
import { reapJobs } from '../../src/jobs/reaper.js';
import { updateJob } from '../../src/jobs/update.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { KilnClient } from '../../src/sdk/client.js';
import { buildRow, insertBareJob, insertBuild, insertEchoTemplate, insertWorkspace, jobLogs, jobRow, type Owner } from '../harness/jobFixtures.js';
import { createTestDatabase } from '../harness/db.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

const ORG_TAGS = { scope: 'organization' };
const MIN = 60_000;
const HUNG_LINES = ['', '====================', 'kiln: Build has been detected as hung for 5 minutes and will be terminated.', '====================', ''];

/** A logger whose lines the test can read. */
function captureLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

describe('the job reaper', () => {
  let srv: TestServer;
  let ctx: ServerContext;
  let owner: Owner;
  const clock = new ManualClock();

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0, clock, config: { reaperIntervalMs: 3_600_000 } });
    ctx = srv.server.api.ctx;
    const u = await srv.createFirstUser();
    owner = { userId: u.userId, orgId: u.organizationId };
  });
  after(async () => srv.close());

  it('fails a running job after the hang timeout, explaining why in its last stage, and keeps the previous state', async () => {
    const t = await insertEchoTemplate(ctx.pool, owner, {});
    const ws = await insertWorkspace(ctx.pool, owner, t);
    // Build 1 succeeded with a state; build 2 (started without one) will hang.
    const first = await insertBuild(ctx.pool, owner, t, ws, { now: clock.now() });
    const w1 = randomUUID();
    await acquireJob(ctx, { id: w1, provisioners: ['echo'], tags: ORG_TAGS });
    await completeJob(ctx, w1, { job_id: first.jobId, workspace_build: { state: new TextEncoder().encode('tf state'), resources: [] } });
    const second = await insertBuild(ctx.pool, owner, t, ws, { transition: 'stop', now: clock.now() });
    const worker = randomUUID();
    assert.equal((await acquireJob(ctx, { id: worker, provisioners: ['echo'], tags: ORG_TAGS }))?.id, second.jobId);
    await updateJob(ctx, worker, { job_id: second.jobId, logs: [{ created_at: clock.now().getTime(), source: 'provisioner', level: 'info', stage: 'Stopping workspace', output: 'halfway' }] });

    const { logger, lines } = captureLogger();
    const reaper = { ...ctx, logger };
    clock.advance(5 * MIN - 1_000);
    assert.deepEqual(await reapJobs(reaper), { hung: [], pending: [] }, 'not yet hung');

    const end: string[] = [];
    const stop = await ctx.pubsub.subscribe(jobLogsChannel(second.jobId), { message: (m) => end.push(m) });
    clock.advance(2_000);
    assert.deepEqual(await reapJobs(reaper), { hung: [second.jobId], pending: [] });
    const job = await jobRow(ctx.pool, second.jobId);
    assert.equal(job.error, 'kiln: Build has been detected as hung for 5 minutes and has been terminated by the reaper.');
    assert.equal(job.completed_at?.getTime(), clock.now().getTime());
    const logs = await jobLogs(ctx.pool, second.jobId);
    assert.equal(logs[0]?.output, 'halfway');
    assert.deepEqual(logs.slice(1).map((l) => l.output), HUNG_LINES);
    for (const l of logs.slice(1)) {
      assert.equal(l.stage, 'Stopping workspace');
      assert.equal(l.level, 'error');
      assert.equal(l.source, 'provisioner_daemon');
    }
    assert.equal((await buildRow(ctx.pool, second.buildId)).provisioner_state?.toString(), 'tf state');
    // The reaper's lines keep the job's newest line id too (followers take batches by it).
    assert.equal((await jobRow(ctx.pool, second.jobId)).last_log_id, logs.at(-1)?.id);
    await waitFor(() => end.some((m) => JSON.parse(m).end_of_logs === true), 'end_of_logs from the reaper');
    stop();
    const warn = lines.find((l) => l.job_id === second.jobId);
    assert.equal(warn?.level, 40);
    assert.match(warn?.msg ?? '', /sent no heartbeat for 5 minutes/);
    // A reaped job is done: a second pass leaves it alone.
    assert.deepEqual(await reapJobs(reaper), { hung: [], pending: [] });
  });

  it('fails a job no daemon took within the pending timeout', async () => {
    const t = await insertEchoTemplate(ctx.pool, owner, {});
    const id = await insertBareJob(ctx.pool, owner, t.fileId, { provisioner: 'nobody', createdAt: clock.now() });
    clock.advance(30 * MIN - 1_000);
    assert.deepEqual((await reapJobs(ctx)).pending, []);
    clock.advance(2_000);
    assert.deepEqual((await reapJobs(ctx)).pending, [id]);
    const job = await jobRow(ctx.pool, id);
    assert.ok(job.started_at && job.completed_at);
    assert.equal(job.error, 'kiln: Build has been detected as pending for 30 minutes and has been terminated by the reaper.');
    assert.deepEqual((await jobLogs(ctx.pool, id)).map((l) => [l.stage, l.output])[2], ['Unknown', 'kiln: Build has been detected as pending for 30 minutes and will be terminated.']);
  });
});

describe('a server stopped in the middle of a build', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const echo = { start: { logs: [{ output: 'working' }], hang: true }, stop: { logs: [{ output: 'stopped' }] } };
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-restart-'));
  });
  after(async () => rm(dataDir, { recursive: true, force: true }));

  async function seed(pool: Pool, url: string) {
    const c = new KilnClient(url);
    const first = await c.createFirstUser({ email: `o${randomUUID().slice(0, 6)}@example.com`, username: 'owner', password: 'owner-password' });
    const owner = { userId: first.user_id, orgId: first.organization_id };
    const t = await insertEchoTemplate(pool, owner, echo);
    const ws = await insertWorkspace(pool, owner, t);
    return { owner, t, ws };
  }

  it('fails the running build when it shuts down gracefully, keeping its logs', async () => {
    const db = await createTestDatabase();
    const pool = createPool(db.url, 2);
    try {
      const server = await startServer(
        { address: '127.0.0.1:0', dataDir, postgresUrl: db.url, provisionerDaemons: 1, logLevel: 'error', sessionDurationMs: 3_600_000, maxFileBytes: 1 << 20, jobHangTimeoutMs: 5 * MIN, jobPendingTimeoutMs: 30 * MIN, overrides: { passwordHashCost: 1024 } },
        createLogger('silent'),
      );
      const { owner, t, ws } = await seed(pool, server.url);
      const b = await insertBuild(pool, owner, t, ws);
      await waitFor(async () => (await jobLogs(pool, b.jobId)).some((l) => l.output === 'working'), 'the build to be running');
      await server.close();
      const job = await jobRow(pool, b.jobId);
      assert.ok(job.completed_at, 'the build does not stay running');
      assert.equal(job.error, 'The provisioner daemon shut down while this job was running.');
      const logs = await jobLogs(pool, b.jobId);
      assert.deepEqual(logs.slice(0, 3).map((l) => l.output), ['', '', 'working']);
      assert.ok(logs.some((l) => l.level === 'warn' && /shut down while this job was running/.test(l.output)));
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM provisioner_daemons');
      assert.equal(rows[0].n, 0, 'built-in daemons unregister on close');
    } finally {
      await pool.end();
      await db.drop();
    }
  });

  it('is failed at once when its own server restarts (never by another replica); logs stay intact and new builds work', async () => {
    const db = await createTestDatabase();
    const pool = createPool(db.url, 2);
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-replica-'));
    // Through bin/kiln, the launcher `npx kiln` and `npm start` run: it sets the allocator's environment, then execs Node.
    const child = spawn(
      'bin/kiln',
      ['server', '--postgres-url', db.url, '--address', '127.0.0.1:0', '--data-dir', dataDir, '--provisioner-daemons', '1', '--log-level', 'error'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const config = (dir: string) => ({
      address: '127.0.0.1:0', dataDir: dir, postgresUrl: db.url, provisionerDaemons: 1, logLevel: 'info' as const, sessionDurationMs: 3_600_000, maxFileBytes: 1 << 20,
      jobHangTimeoutMs: 5 * MIN, jobPendingTimeoutMs: 30 * MIN, overrides: { passwordHashCost: 1024 },
    });
    try {
      const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], `the child server to listen (output so far: ${out})`, 60_000);
      // The launcher is gone (exec): the pid is Node's own, with a fixed mmap threshold (bin/kiln-env.sh).
      assert.match(path.basename(await readlink(`/proc/${child.pid}/exe`)), /^node/);
      assert.ok((await readFile(`/proc/${child.pid}/environ`, 'utf8')).split('\0').includes('MALLOC_MMAP_THRESHOLD_=131072'), 'kiln server runs with MALLOC_MMAP_THRESHOLD_');
      const { owner, t, ws } = await seed(pool, url);
      const b = await insertBuild(pool, owner, t, ws);
      await waitFor(async () => (await jobLogs(pool, b.jobId)).some((l) => l.output === 'working'), 'the build to be running in the child');
      child.kill('SIGKILL');
      await exited;
      const before = await jobLogs(pool, b.jobId);
      assert.equal((await jobRow(pool, b.jobId)).completed_at, null, 'a killed server leaves the job running');

      // Another replica (its own data dir, so its own server id) starting now leaves the job alone: within the hang
      // timeout, the dead server's job could as well be another live replica's.
      const replica = await startServer(config(otherDir), createLogger('silent'));
      try {
        await reapJobs(replica.api.ctx);
        assert.equal((await jobRow(pool, b.jobId)).completed_at, null, 'another replica does not fail the job at start');
      } finally {
        await replica.close();
      }

      // The same server (same data dir) started again: its daemons cannot be running the job; it is failed at once,
      // long before the hang timeout.
      const { logger, lines } = captureLogger();
      const server = await startServer(config(dataDir), logger);
      try {
        const job = await jobRow(pool, b.jobId);
        assert.ok(job.completed_at, 'failed during start-up, not after the hang timeout');
        assert.match(job.error ?? '', /the server running this build \(daemon .+-builtin-1\) stopped unexpectedly while the build was running; failed at restart/);
        const logs = await jobLogs(pool, b.jobId);
        assert.deepEqual(logs.slice(0, before.length), before, 'the logs written before the crash are intact');
        assert.match(logs.slice(before.length).map((l) => l.output).join('\n'), /stopped unexpectedly; the build was failed when the server restarted/);
        assert.ok(lines.some((l) => l.level === 40 && /restart: failed a job left running by this server/.test(l.msg)), 'the server says why it failed the job');
        const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM provisioner_daemons');
        assert.equal(rows[0]?.n, 1, "the dead process's daemon rows are gone; only the new daemon is listed");

        const next = await insertBuild(pool, owner, t, ws, { transition: 'stop' });
        const done = await waitFor(async () => ((await jobRow(pool, next.jobId)).completed_at ? jobRow(pool, next.jobId) : undefined), 'the next build');
        assert.equal(done.error, null);
        assert.ok((await jobLogs(pool, next.jobId)).some((l) => l.output === 'stopped'));
      } finally {
        await server.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await pool.end();
      await db.drop();
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});
