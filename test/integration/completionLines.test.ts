import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { ServerContext } from '../../src/api/context.js';
import { InProcessProvisionerdClient } from '../../src/api/provisionerdserver/index.js';
import { withStatementCounter } from '../../src/db/statementCount.js';
import { acquireJob } from '../../src/jobs/acquire.js';
import { jobLogsChannel } from '../../src/jobs/channels.js';
import { completeJob } from '../../src/jobs/complete.js';
import { onLocalJobLogs, type LocalLogBatch } from '../../src/jobs/localLogFeed.js';
import { systemClock } from '../../src/lib/clock.js';
import { ProvisionerDaemon } from '../../src/provisionerd/daemon.js';
import { silentLogger } from '../../src/provisionerd/logger.js';
import { JobUpdater } from '../../src/provisionerd/updater.js';
import { EchoProvisioner } from '../../src/provisioners/echo/echo.js';
import { isProvisionerdError, type CompleteJobRequest, type JobLog, type UpdateJobRequest } from '../../src/sdk/types/provisionerd.js';
import { insertBuild, insertEchoTemplate, insertWorkspace, jobLogs, jobRow, type EchoTemplate, type Owner } from '../harness/jobFixtures.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

const line = (output: string, seq: number): JobLog => ({ created_at: Date.now(), source: 'provisioner', level: 'info', stage: 'Starting workspace', output, seq });
const success = (jobId: string, logs: JobLog[], resources: CompleteJobRequest['workspace_build'] = { state: new Uint8Array(0), resources: [] }): CompleteJobRequest => ({
  job_id: jobId,
  workspace_build: resources,
  logs,
});

/**
 * A built-in daemon hands a build's last lines to its success (`CompleteJobRequest.logs`) instead of sending them as a
 * batch of their own; the server stores both with one statement when it can, and otherwise the lines first, then the
 * completion, as before.
 */
describe("a build's last lines stored with its success", () => {
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

  /** A build acquired by a fresh worker id on this server (which then remembers its log budget). */
  async function runningBuild(): Promise<{ jobId: string; worker: string }> {
    const { jobId } = await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t));
    const worker = randomUUID();
    const acquired = await acquireJob(ctx, { id: worker, provisioners: ['echo'], tags: { scope: 'organization' } });
    assert.equal(acquired?.id, jobId);
    return { jobId, worker };
  }

  /** Log notifications as another replica hears them, until the job's end. */
  async function hear(jobId: string): Promise<{ messages: string[]; stop: () => void }> {
    const messages: string[] = [];
    const stop = await srv.server.api.ctx.pubsub.subscribe(jobLogsChannel(jobId), { message: (m) => messages.push(m) });
    return { messages, stop };
  }

  it('in one statement: the lines in order, the job succeeded, followers told of the lines and then of the end', async () => {
    const { jobId, worker } = await runningBuild();
    const heard = await hear(jobId);
    try {
      const c = { statements: 0 };
      await withStatementCounter(c, () => completeJob(ctx, worker, success(jobId, [line('one', 1), line('two', 2)])));
      // The combined statement, and the statement that announced the lines and the job's end.
      assert.equal(c.statements, 2);
      const stored = await jobLogs(ctx.pool, jobId);
      assert.deepEqual(stored.map((l) => l.output), ['one', 'two']);
      const job = await jobRow(ctx.pool, jobId);
      assert.ok(job.completed_at);
      assert.equal(job.error, null);
      const row = (await ctx.pool.query<{ last_log_id: number; log_seq: number }>('SELECT last_log_id, log_seq FROM provisioner_jobs WHERE id = $1', [jobId])).rows[0];
      assert.equal(row?.last_log_id, stored[1]?.id);
      assert.equal(row?.log_seq, 2);
      await waitFor(() => heard.messages.length === 2, 'both notifications');
      const [lines, end] = heard.messages.map((m) => JSON.parse(m) as { created_after: number; last_id?: number; end_of_logs?: boolean });
      assert.deepEqual([lines?.created_after, lines?.last_id], [(stored[0]?.id ?? 0) - 1, stored[1]?.id]);
      assert.equal(end?.end_of_logs, true);
    } finally {
      heard.stop();
    }
  });

  it('sent again (its answer lost), it stores the lines once and is refused as already completed', async () => {
    const { jobId, worker } = await runningBuild();
    const req = success(jobId, [line('once', 1)]);
    await completeJob(ctx, worker, req);
    await assert.rejects(completeJob(ctx, worker, req), (e: unknown) => isProvisionerdError(e));
    assert.deepEqual((await jobLogs(ctx.pool, jobId)).map((l) => l.output), ['once']);
  });

  it('where one statement cannot do it, the lines go first, then the completion: nothing remembered, a follower here, resources', async () => {
    // A server that remembers nothing of the job (another replica; here a context of its own).
    const a = await runningBuild();
    await completeJob({ ...ctx }, a.worker, success(a.jobId, [line('elsewhere', 1)]));
    assert.deepEqual((await jobLogs(ctx.pool, a.jobId)).map((l) => l.output), ['elsewhere']);
    assert.ok((await jobRow(ctx.pool, a.jobId)).completed_at);

    // A follower on this server gets the lines from memory, which the batch path does.
    const b = await runningBuild();
    const batches: LocalLogBatch[] = [];
    const stop = onLocalJobLogs(ctx.pubsub, b.jobId, (batch) => batches.push(batch));
    try {
      await completeJob(ctx, b.worker, success(b.jobId, [line('followed', 1), line('closely', 2)]));
    } finally {
      stop();
    }
    const stored = await jobLogs(ctx.pool, b.jobId);
    assert.deepEqual(batches.flatMap((x) => x.rows.map((r) => [r.id, r.output])), stored.map((l) => [l.id, l.output]));
    assert.ok((await jobRow(ctx.pool, b.jobId)).completed_at);

    // A build with resources completes in a transaction with their inserts.
    const c = await runningBuild();
    const resources = { state: new Uint8Array(0), resources: [{ name: 'dev', type: 'null_resource' }] };
    await completeJob(ctx, c.worker, success(c.jobId, [line('with resources', 1)], resources));
    assert.deepEqual((await jobLogs(ctx.pool, c.jobId)).map((l) => l.output), ['with resources']);
    const names = await ctx.pool.query<{ name: string }>('SELECT name FROM workspace_resources WHERE job_id = $1', [c.jobId]);
    assert.deepEqual(names.rows.map((r) => r.name), ['dev']);
  });

  it('a built-in daemon sends a short build\'s lines with its success, numbered, and no batch of them before', async () => {
    const { jobId } = await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t));
    const client = new InProcessProvisionerdClient(ctx, { id: randomUUID(), name: 'tail', provisioners: ['echo'], tags: { scope: 'organization' } }, { pollMs: 50 });
    const updates: UpdateJobRequest[] = [];
    const completions: CompleteJobRequest[] = [];
    const recording = {
      updatesInFlight: client.updatesInFlight,
      completeCarriesLogs: client.completeCarriesLogs,
      acquireJob: client.acquireJob.bind(client),
      failJob: client.failJob.bind(client),
      onCancelRequested: client.onCancelRequested.bind(client),
      updateJob: (req: UpdateJobRequest) => (updates.push(req), client.updateJob(req)),
      completeJob: (req: CompleteJobRequest) => (completions.push(req), client.completeJob(req)),
    };
    const daemon = new ProvisionerDaemon({ client: recording, provisioners: { echo: new EchoProvisioner() }, logger: silentLogger, heartbeatMs: 60_000, logFlushMs: 60_000 });
    daemon.start();
    try {
      await waitFor(async () => (await jobRow(ctx.pool, jobId)).completed_at, 'the build to finish');
    } finally {
      await daemon.close();
      client.close();
    }
    assert.equal((await jobRow(ctx.pool, jobId)).error, null);
    assert.deepEqual(updates.filter((u) => u.logs.length > 0), [], 'no batch of lines of its own');
    const tail = completions[0]?.logs ?? [];
    assert.ok(tail.length >= 2, 'the stage markers at least');
    assert.deepEqual(tail.map((l) => l.seq), tail.map((_, i) => i + 1));
    assert.deepEqual((await jobLogs(ctx.pool, jobId)).map((l) => [l.stage, l.output]), tail.map((l) => [l.stage, l.output]));
  });
});

describe('JobUpdater.takeTail', () => {
  const quietClient = {
    acquireJob: async () => null,
    updateJob: async () => ({ canceled: false }),
    completeJob: async () => {},
    failJob: async () => {},
  };
  const updater = (maxQueuedLines?: number) =>
    new JobUpdater('job', quietClient, { flushMs: 3_600_000, flushLines: 10_000, heartbeatMs: 3_600_000, ...(maxQueuedLines ? { maxQueuedLines } : {}) }, systemClock, silentLogger, () => {}, () => {});
  const log = (u: JobUpdater, output: string) => u.log({ source: 'provisioner', level: 'info', stage: 's', output });

  it('takes the unsent lines out, numbered from 1; a second take finds none', async () => {
    const u = updater();
    u.start();
    log(u, 'a');
    log(u, 'b');
    u.stop();
    assert.deepEqual((await u.takeTail())?.map((l) => [l.output, l.seq]), [['a', 1], ['b', 2]]);
    assert.deepEqual(await u.takeTail(), []);
  });

  it('leaves them to drain when lines were dropped and not yet reported', async () => {
    const u = updater(1);
    u.start();
    log(u, 'kept');
    log(u, 'dropped');
    u.stop();
    assert.equal(u.dropped, 1);
    assert.equal(await u.takeTail(), undefined);
  });
});
