import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { ServerContext } from '../../src/api/context.js';
import { InProcessProvisionerdClient } from '../../src/api/provisionerdserver/index.js';
import { acquireJob } from '../../src/jobs/acquire.js';
import { updateJob } from '../../src/jobs/update.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/provisionerd/logger.js';
import { JobUpdater } from '../../src/provisionerd/updater.js';
import type { UpdateJobRequest, UpdateJobResponse } from '../../src/sdk/types/provisionerd.js';
import { insertBuild, insertEchoTemplate, insertWorkspace, jobLogs, type Owner } from '../harness/jobFixtures.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

describe('a daemon job updater against the server', () => {
  let srv: TestServer;
  let ctx: ServerContext;
  let owner: Owner;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0, config: { reaperIntervalMs: 3_600_000 } });
    ctx = srv.server.api.ctx;
    const u = await srv.createFirstUser();
    owner = { userId: u.userId, orgId: u.organizationId };
  });
  after(async () => srv.close());

  /** A pending build of a fresh echo template: its job id. */
  async function pendingJob(): Promise<string> {
    const t = await insertEchoTemplate(ctx.pool, owner, {});
    return (await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t))).jobId;
  }

  /**
   * The real in-process client, with each update's answer held until the test calls its `held` release; `sent` is
   * each update's number of lines, in order.
   */
  function holdingClient(updatesInFlight: number) {
    const client = new InProcessProvisionerdClient(ctx, { id: randomUUID(), name: `u${updatesInFlight}`, provisioners: ['echo'], tags: { scope: 'organization' } }, { pollMs: 50 });
    const held: (() => void)[] = [];
    const sent: number[] = [];
    const holding = {
      ...client,
      updatesInFlight,
      acquireJob: client.acquireJob.bind(client),
      completeJob: client.completeJob.bind(client),
      failJob: client.failJob.bind(client),
      async updateJob(req: UpdateJobRequest): Promise<UpdateJobResponse> {
        sent.push(req.logs.length);
        const answer = await client.updateJob(req);
        await new Promise<void>((release) => held.push(release));
        return answer;
      },
    };
    return { client, holding, held, sent };
  }

  /** The job's stored outputs once there are `n` of them. */
  function storedOutputs(jobId: string, n: number): Promise<string[]> {
    return waitFor(async () => {
      const stored = (await jobLogs(ctx.pool, jobId)).map((l) => l.output);
      return stored.length === n ? stored : undefined;
    }, 'every line stored');
  }

  it('lets the provisioner refill its queue while a batch is on its way, so the next batch is whole', async () => {
    const jobId = await pendingJob();
    // One update at a time, as a network daemon sends them (two at a time: the test below).
    const { client, holding, held, sent } = holdingClient(1);
    const ac = new AbortController();
    let updater: JobUpdater | undefined;
    try {
      const job = await client.acquireJob(ac.signal);
      assert.equal(job?.job_id, jobId);
      updater = new JobUpdater(jobId, holding, { flushMs: 3_600_000, flushLines: 100, heartbeatMs: 3_600_000 }, systemClock, silentLogger, () => {}, () => {});
      updater.start();
      let n = 0;
      const produce = async (count: number) => {
        for (let i = 0; i < count; i++) {
          if (i % 500 === 499) await updater?.room();
          updater?.log({ source: 'provisioner', level: 'info', stage: 'Starting workspace', output: `line ${n++}` });
        }
      };
      // The first 100 lines go out at once (flushLines); the provisioner goes on until more than 2,000 are queued
      // (2,399 at its check before line 2,499) and waits for room.
      const first = produce(2_600);
      await waitFor(() => held.length === 1, 'the first batch to be stored and held');
      const waiting = first.then(() => 'refilled');
      // The second batch leaves when the first is answered: the queue is emptied, and the provisioner is woken then,
      // while the second batch is still on its way, not after its answer.
      held[0]?.();
      await waitFor(() => held.length === 2, 'the second batch to be stored and held');
      assert.equal(await Promise.race([waiting, new Promise((r) => setTimeout(r, 2_000, 'still waiting'))]), 'refilled');
      await produce(1_500);
      held[1]?.();
      // What the provisioner wrote during the second batch's trip is the third batch, whole.
      await waitFor(() => held.length === 3, 'the third batch');
      assert.deepEqual(sent, [100, 2_000, 2_000]);
      updater.stop();
      for (const release of held) release();
      const lines = await storedOutputs(jobId, 4_100);
      assert.deepEqual(lines, Array.from({ length: 4_100 }, (_, i) => `line ${i}`));
    } finally {
      updater?.stop();
      for (const release of held) release();
      ac.abort();
      client.close();
    }
  });

  it('sends a full batch while the one before it is on its way, when the client allows two; the lines keep their order', async () => {
    const jobId = await pendingJob();
    const { client, holding, held, sent } = holdingClient(2);
    assert.equal(client.updatesInFlight, 2, 'the built-in daemons\' client allows two');
    const ac = new AbortController();
    let updater: JobUpdater | undefined;
    try {
      assert.equal((await client.acquireJob(ac.signal))?.job_id, jobId);
      updater = new JobUpdater(jobId, holding, { flushMs: 3_600_000, flushLines: 100, heartbeatMs: 3_600_000 }, systemClock, silentLogger, () => {}, () => {});
      updater.start();
      for (let i = 0; i < 2_100; i++) updater.log({ source: 'provisioner', level: 'info', stage: 'Starting workspace', output: `line ${i}` });
      // The first 100 went at once; their answer is held, and the next 2,000 go behind them without waiting for it.
      await waitFor(() => sent.length === 2, 'a second update while the first is unanswered');
      assert.deepEqual(sent, [100, 2_000]);
      updater.stop();
      for (const release of held) release();
      const lines = await storedOutputs(jobId, 2_100);
      assert.deepEqual(lines, Array.from({ length: 2_100 }, (_, i) => `line ${i}`));
    } finally {
      updater?.stop();
      for (const release of held) release();
      ac.abort();
      client.close();
    }
  });

  it('runs two updates of one job in the order they came, and fails the second when the first failed', async () => {
    const jobId = await pendingJob();
    const worker = randomUUID();
    assert.equal((await acquireJob(ctx, { id: worker, provisioners: ['echo'], tags: { scope: 'organization' } }))?.id, jobId);
    const batch = (prefix: string, n: number, at = Date.now()) => ({
      job_id: jobId,
      logs: Array.from({ length: n }, (_, i) => ({ created_at: at, source: 'provisioner' as const, level: 'info' as const, stage: 's', output: `${prefix}${i}` })),
    });
    // Called back to back, as the built-in daemons' client does: the second is prepared while the first is inserted.
    await Promise.all([updateJob(ctx, worker, batch('a', 2_000)), updateJob(ctx, worker, batch('b', 2_000)), updateJob(ctx, worker, batch('c', 10))]);
    const want = [...batch('a', 2_000).logs, ...batch('b', 2_000).logs, ...batch('c', 10).logs].map((l) => l.output);
    assert.deepEqual((await jobLogs(ctx.pool, jobId)).map((l) => l.output), want);
    // A first update PostgreSQL refuses (a time it cannot store: a real error from the insert) takes the second
    // with it: nothing of the second is stored ahead of the first.
    const first = updateJob(ctx, worker, batch('x', 3, Number.NaN));
    const second = updateJob(ctx, worker, batch('y', 3));
    await assert.rejects(first);
    await assert.rejects(second, /must follow it/);
    assert.equal((await jobLogs(ctx.pool, jobId)).length, want.length, 'nothing stored');
    // Sent again in order (the daemon does this), both are stored in order.
    await Promise.all([updateJob(ctx, worker, batch('x', 3)), updateJob(ctx, worker, batch('y', 3))]);
    assert.deepEqual((await jobLogs(ctx.pool, jobId)).map((l) => l.output).slice(want.length), ['x0', 'x1', 'x2', 'y0', 'y1', 'y2']);
  });

  it("writes a streaming job's next batch on its pipelined connection before the previous one has answered; order holds, and a failed batch takes the ones behind it", async () => {
    const jobId = await pendingJob();
    const worker = randomUUID();
    assert.equal((await acquireJob(ctx, { id: worker, provisioners: ['echo'], tags: { scope: 'organization' } }))?.id, jobId);
    // The server's own pipelined connections, watched: when each batch's statement is written and when it answers.
    const events: string[] = [];
    const pipes = ctx.logPipelines ?? [];
    assert.ok(pipes.length > 0, 'the server has pipelined connections for log batches');
    const watched = pipes.map((p) => ({
      query: (async (config: { values?: unknown[] }) => {
        const batch = /^\{"([a-z]+)/.exec(String(config.values?.[5]))?.[1] ?? '?';
        events.push(`write ${batch}`);
        try {
          return await p.query(config as never);
        } finally {
          events.push(`answer ${batch}`);
        }
      }) as unknown as typeof p.query,
    }));
    const c = { ...ctx, logPipelines: watched };
    const batch = (prefix: string, n: number, at = Date.now()) => ({
      job_id: jobId,
      logs: Array.from({ length: n }, (_, i) => ({ created_at: at, source: 'provisioner' as const, level: 'info' as const, stage: 's', output: `${prefix}${i}` })),
    });
    // Back to back, as the built-in daemons' client sends a streaming job's batches.
    await Promise.all(['a', 'b', 'c', 'd'].map((p) => updateJob(c, worker, batch(p, 500))));
    const want = ['a', 'b', 'c', 'd'].flatMap((p) => batch(p, 500).logs.map((l) => l.output));
    assert.deepEqual((await jobLogs(ctx.pool, jobId)).map((l) => l.output), want);
    // The first goes alone; the second follows it and opens the pipeline; the third and fourth are written behind it.
    assert.ok(events.indexOf('write c') >= 0 && events.indexOf('write c') < events.indexOf('answer b'), `c written before b answered: ${events.join(', ')}`);
    assert.ok(events.indexOf('write d') < events.indexOf('answer c'), `d written before c answered: ${events.join(', ')}`);

    // A pipelined batch PostgreSQL refuses (a time it cannot store) takes the one written behind it with it.
    events.length = 0;
    const sent = [updateJob(c, worker, batch('w', 3)), updateJob(c, worker, batch('x', 3)), updateJob(c, worker, batch('y', 3, Number.NaN)), updateJob(c, worker, batch('z', 3))];
    const outcomes = await Promise.allSettled(sent);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    assert.match(String((outcomes[3] as PromiseRejectedResult).reason), /must follow it/);
    assert.ok(events.indexOf('write z') < events.indexOf('answer y'), `z was written behind y: ${events.join(', ')}`);
    assert.deepEqual((await jobLogs(ctx.pool, jobId)).map((l) => l.output).slice(want.length), ['w0', 'w1', 'w2', 'x0', 'x1', 'x2']);
    // Sent again in order (the daemon does this), both are stored in order.
    await Promise.all([updateJob(c, worker, batch('y', 3)), updateJob(c, worker, batch('z', 3))]);
    assert.deepEqual((await jobLogs(ctx.pool, jobId)).map((l) => l.output).slice(want.length + 6), ['y0', 'y1', 'y2', 'z0', 'z1', 'z2']);
  });

  it('stores any text a line may hold exactly, on both insert paths (the batch is encoded as array literals by kiln)', async () => {
    const jobId = await pendingJob();
    const worker = randomUUID();
    assert.equal((await acquireJob(ctx, { id: worker, provisioners: ['echo'], tags: { scope: 'organization' } }))?.id, jobId);
    const texts = ['', 'NULL', 'null', '"', '\\', '\\"', 'a,b', '{x}', '{"y","z"}', ' padded ', 'tab\tnew\nline\r', '\u001b[31mred\u001b[0m', 'é ✓ 🚀', "it's", '\\N'];
    const logs = texts.map((output, i) => ({ created_at: Date.now(), source: 'provisioner' as const, level: 'info' as const, stage: texts[(i + 3) % texts.length] as string, output }));
    // A context that remembers nothing of the job takes the locked path; the job's own server, the one statement.
    await updateJob({ ...ctx }, worker, { job_id: jobId, logs });
    await updateJob(ctx, worker, { job_id: jobId, logs });
    const stored = await jobLogs(ctx.pool, jobId);
    assert.deepEqual(stored.map((l) => [l.stage, l.output]), [...logs, ...logs].map((l) => [l.stage, l.output]));
  });
});
