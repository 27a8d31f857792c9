import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { ServerContext } from '../../src/api/context.js';
import { InProcessProvisionerdClient } from '../../src/api/provisionerdserver/index.js';
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

  it('lets the provisioner refill its queue while a batch is on its way, so the next batch is whole', async () => {
    const t = await insertEchoTemplate(ctx.pool, owner, {});
    const b = await insertBuild(ctx.pool, owner, t, await insertWorkspace(ctx.pool, owner, t));
    const client = new InProcessProvisionerdClient(ctx, { id: randomUUID(), name: 'u', provisioners: ['echo'], tags: { scope: 'organization' } }, { pollMs: 50 });
    // The real client, with each update's answer held until the test lets it through.
    const held: { release: () => void; size: number }[] = [];
    const sent: number[] = [];
    const holding = {
      ...client,
      acquireJob: client.acquireJob.bind(client),
      completeJob: client.completeJob.bind(client),
      failJob: client.failJob.bind(client),
      async updateJob(req: UpdateJobRequest): Promise<UpdateJobResponse> {
        sent.push(req.logs.length);
        const answer = await client.updateJob(req);
        await new Promise<void>((release) => held.push({ release, size: req.logs.length }));
        return answer;
      },
    };
    const ac = new AbortController();
    let updater: JobUpdater | undefined;
    try {
      const job = await client.acquireJob(ac.signal);
      assert.equal(job?.job_id, b.jobId);
      updater = new JobUpdater(b.jobId, holding, { flushMs: 3_600_000, flushLines: 100, heartbeatMs: 3_600_000 }, systemClock, silentLogger, () => {}, () => {});
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
      held[0]?.release();
      await waitFor(() => held.length === 2, 'the second batch to be stored and held');
      assert.equal(await Promise.race([waiting, new Promise((r) => setTimeout(r, 2_000, 'still waiting'))]), 'refilled');
      await produce(1_500);
      held[1]?.release();
      // What the provisioner wrote during the second batch's trip is the third batch, whole.
      await waitFor(() => held.length === 3, 'the third batch');
      assert.deepEqual(sent, [100, 2_000, 2_000]);
      updater.stop();
      for (const h of held) h.release();
      const lines = await waitFor(async () => {
        const stored = (await jobLogs(ctx.pool, b.jobId)).map((l) => l.output);
        return stored.length === 4_100 ? stored : undefined;
      }, 'every line stored');
      assert.deepEqual(lines, Array.from({ length: 4_100 }, (_, i) => `line ${i}`));
    } finally {
      updater?.stop();
      for (const h of held) h.release();
      ac.abort();
      client.close();
    }
  });
});
