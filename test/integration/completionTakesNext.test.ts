import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { ServerContext } from '../../src/api/context.js';
import { InProcessProvisionerdClient } from '../../src/api/provisionerdserver/index.js';
import { acquiredJobPayload } from '../../src/api/provisionerdserver/payload.js';
import { acquireJob, type AcquiringDaemon } from '../../src/jobs/acquire.js';
import { completeJob } from '../../src/jobs/complete.js';
import { ProvisionerDaemon } from '../../src/provisionerd/daemon.js';
import { silentLogger } from '../../src/provisionerd/logger.js';
import { EchoProvisioner } from '../../src/provisioners/echo/echo.js';
import { isProvisionerdError, type CompleteJobRequest, type JobLog } from '../../src/sdk/types/provisionerd.js';
import { insertBuild, insertEchoTemplate, insertWorkspace, jobRow, type EchoTemplate, type Owner } from '../harness/jobFixtures.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { countStatements } from '../harness/statements.js';
import { waitFor } from '../harness/wait.js';

const line = (output: string, seq: number): JobLog => ({ created_at: Date.now(), source: 'provisioner', level: 'info', stage: 'Starting workspace', output, seq });
const success = (jobId: string, logs?: JobLog[], resources: NonNullable<CompleteJobRequest['workspace_build']>['resources'] = []): CompleteJobRequest => ({
  job_id: jobId,
  workspace_build: { state: new Uint8Array(0), resources },
  ...(logs ? { logs } : {}),
});

/**
 * A built-in daemon's success takes its next job in the same statement (src/jobs/complete.ts): one statement and one
 * commit fewer per job under load. The job taken is the one an acquisition would have handed out, started at the
 * success's instant, and a daemon that stops asking gives a job it holds back to the queue.
 */
describe("a build's success takes the daemon's next job", () => {
  let srv: TestServer;
  let ctx: ServerContext;
  let owner: Owner;
  let t: EchoTemplate;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0, config: { reaperIntervalMs: 3_600_000 } });
    ctx = srv.server.api.ctx;
    const u = await srv.createFirstUser();
    owner = { userId: u.userId, orgId: u.organizationId };
    t = await insertEchoTemplate(ctx.pool, owner, {});
  });
  after(async () => srv.close());

  const daemonOf = (id = randomUUID()): AcquiringDaemon => ({ id, provisioners: ['echo'], tags: { scope: 'organization' } });

  /** `n` queued builds, the first taken by a fresh daemon. */
  async function queued(n: number): Promise<{ jobs: string[]; daemon: AcquiringDaemon }> {
    const jobs: string[] = [];
    for (let i = 0; i < n; i++) jobs.push((await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t))).jobId);
    const daemon = daemonOf();
    assert.equal((await acquireJob(ctx, daemon))?.id, jobs[0]);
    return { jobs, daemon };
  }

  const statements = <T>(fn: () => Promise<T>) => countStatements(ctx.pubsub, fn);

  for (const [name, request, expected] of [
    ['with its last lines', (id: string) => success(id, [line('a', 1), line('b', 2)]), 2],
    ['without lines', (id: string) => success(id), 2],
    // Resources: the success (with the next job) and the resources' insert in one transaction: BEGIN, two, COMMIT.
    ['with resources', (id: string) => success(id, undefined, [{ name: 'r', type: 'null_resource' }] as never), 5],
  ] as const) {
    it(`${name}: one statement completes the job and starts the next, as an acquisition would have`, async () => {
      const { jobs, daemon } = await queued(2);
      const [first, second] = jobs as [string, string];
      const { n, value: next } = await statements(() => completeJob(ctx, daemon.id, request(first), daemon));
      // The success's statement (with the acquisition), then the notification statement for both.
      assert.equal(n, expected);
      assert.equal(next?.id, second);
      const [done, started] = [await jobRow(ctx.pool, first), await jobRow(ctx.pool, second)];
      assert.equal(done.error, null);
      assert.ok(done.completed_at);
      assert.equal(started.worker_id, daemon.id);
      assert.equal(started.started_at?.getTime(), done.completed_at.getTime(), 'started at the success\'s instant');
      // The job handed out is the row as stored, with the payload an acquisition reads alongside.
      assert.equal(next.started_at?.getTime(), started.started_at?.getTime());
      const stored = (await ctx.pool.query('SELECT worker_id, logs_length, logs_overflowed, log_seq, last_log_id, tags, input, file_id, type FROM provisioner_jobs WHERE id = $1', [second])).rows[0];
      assert.deepEqual(
        { worker_id: next.worker_id, logs_length: next.logs_length, logs_overflowed: next.logs_overflowed, log_seq: next.log_seq, last_log_id: next.last_log_id, tags: next.tags, input: next.input, file_id: next.file_id, type: next.type },
        stored,
      );
      assert.ok(next.buildPayload, 'the payload came with it');
      assert.deepEqual(await acquiredJobPayload(ctx, next), await acquiredJobPayload(ctx, { ...next, buildPayload: undefined }));
      // The server remembers its log budget as an acquisition leaves it: its first batch is one statement.
      const batch = await statements(() => completeJob(ctx, daemon.id, success(second, [line('c', 1)])));
      assert.equal(batch.n, 2);
      assert.equal((await jobRow(ctx.pool, second)).error, null);
    });
  }

  it('takes nothing when the success does not match, when no job is waiting, or when none is for this daemon', async () => {
    const { jobs, daemon } = await queued(2);
    const [first, second] = jobs as [string, string];
    // Another worker's success is refused, and takes no job for it.
    const stranger = daemonOf();
    await assert.rejects(completeJob(ctx, stranger.id, success(first), stranger), (e: unknown) => isProvisionerdError(e));
    assert.equal((await jobRow(ctx.pool, second)).started_at, null);
    // A daemon of another provisioner: the success stands, the echo job stays queued.
    const other = { ...daemon, provisioners: ['terraform'] };
    assert.equal(await completeJob(ctx, daemon.id, success(first), other), undefined);
    assert.equal((await jobRow(ctx.pool, first)).error, null);
    assert.equal((await jobRow(ctx.pool, second)).started_at, null);
    // The queue empty: nothing taken.
    assert.equal((await acquireJob(ctx, daemon))?.id, second);
    assert.equal(await completeJob(ctx, daemon.id, success(second), daemon), undefined);
  });

  it('a built-in daemon runs queued builds back to back, each started by the success before it', async () => {
    const jobs: string[] = [];
    for (let i = 0; i < 3; i++) jobs.push((await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t))).jobId);
    const client = new InProcessProvisionerdClient(ctx, { ...daemonOf(), name: 'chain' }, { pollMs: 50 });
    const daemon = new ProvisionerDaemon({ client, provisioners: { echo: new EchoProvisioner() }, logger: silentLogger, heartbeatMs: 60_000 });
    daemon.start();
    try {
      await waitFor(async () => (await jobRow(ctx.pool, jobs[2] as string)).completed_at, 'the third build to finish');
    } finally {
      await daemon.close();
      client.close();
    }
    const rows = await Promise.all(jobs.map((j) => jobRow(ctx.pool, j)));
    assert.deepEqual(rows.map((r) => r.error), [null, null, null]);
    assert.equal(rows[1]?.started_at?.getTime(), rows[0]?.completed_at?.getTime());
    assert.equal(rows[2]?.started_at?.getTime(), rows[1]?.completed_at?.getTime());
  });

  it('a daemon that stops asking gives the job it holds back to the queue', async () => {
    const jobs: string[] = [];
    for (let i = 0; i < 2; i++) jobs.push((await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t))).jobId);
    const [first, second] = jobs as [string, string];
    const client = new InProcessProvisionerdClient(ctx, { ...daemonOf(), name: 'holder' }, { pollMs: 50 });
    const asking = new AbortController();
    try {
      assert.equal((await client.acquireJob(asking.signal))?.job_id, first);
      await client.completeJob(success(first));
      // Held for the next ask: the job is this daemon's already.
      assert.equal((await jobRow(ctx.pool, second)).worker_id, client.daemon.id);
      await client.returnHeldJob();
      const back = await jobRow(ctx.pool, second);
      assert.deepEqual([back.started_at, back.worker_id], [null, null]);
      // Queued again: the next acquisition (anyone's) hands it out.
      assert.equal((await acquireJob(ctx, daemonOf()))?.id, second);
      // A daemon that has stopped asking takes nothing with its success.
      asking.abort();
      const third = (await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t))).jobId;
      const again = new InProcessProvisionerdClient(ctx, { ...daemonOf(), name: 'stopping' }, { pollMs: 50 });
      const stop = new AbortController();
      try {
        assert.equal((await again.acquireJob(stop.signal))?.job_id, third);
        const fourth = (await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t))).jobId;
        stop.abort();
        await again.completeJob(success(third));
        assert.equal((await jobRow(ctx.pool, fourth)).started_at, null);
        assert.equal((await acquireJob(ctx, daemonOf()))?.id, fourth);
      } finally {
        again.close();
      }
    } finally {
      client.close();
    }
  });

  it('a success that took a job but whose answer was lost: the daemon\'s next ask puts that job back first', async () => {
    const jobs: string[] = [];
    for (let i = 0; i < 2; i++) jobs.push((await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t))).jobId);
    const [first, second] = jobs as [string, string];
    // The connection is lost as the success's statement answers: it committed, the daemon does not know.
    let lose = true;
    const lossy = {
      query: async (q: unknown, v?: unknown) => {
        const r = await ctx.pool.query(q as never, v as never);
        if (lose && typeof q === 'object' && String((q as { name?: string }).name).endsWith('_and_acquire')) {
          lose = false;
          throw new Error('Connection terminated unexpectedly');
        }
        return r;
      },
      connect: () => ctx.pool.connect(),
    };
    const client = new InProcessProvisionerdClient({ ...ctx, pool: lossy as never }, { ...daemonOf(), name: 'lossy' }, { pollMs: 50 });
    const asking = new AbortController();
    try {
      assert.equal((await client.acquireJob(asking.signal))?.job_id, first);
      await assert.rejects(client.completeJob(success(first)), /Connection terminated/);
      assert.equal(lose, false, 'the success went through the statement that takes the next job');
      assert.equal((await jobRow(ctx.pool, first)).error, null);
      assert.equal((await jobRow(ctx.pool, second)).worker_id, client.daemon.id, 'taken, unknown to the daemon');
      // Its next ask gives it back and takes it again (the oldest job), this time knowingly.
      assert.equal((await client.acquireJob(asking.signal))?.job_id, second);
      assert.equal((await jobRow(ctx.pool, second)).worker_id, client.daemon.id);
    } finally {
      asking.abort();
      client.close();
    }
  });
});
