import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { ServerContext } from '../../src/api/context.js';
import { streamStats } from '../../src/api/http/streamRows.js';
import { acquireJob } from '../../src/jobs/acquire.js';
import { completeJob } from '../../src/jobs/complete.js';
import { updateJob } from '../../src/jobs/update.js';
import { KilnClient } from '../../src/sdk/client.js';
import type { ProvisionerJobLog } from '../../src/sdk/types/provisionerJobs.js';
import type { JobLog } from '../../src/sdk/types/provisionerd.js';
import { insertBuild, insertEchoTemplate, insertWorkspace, jobLogs, type Owner } from '../harness/jobFixtures.js';
import { routeStatements } from '../harness/statements.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

const ORG_TAGS = { scope: 'organization' };
const line = (output: string): JobLog => ({ created_at: Date.now(), source: 'provisioner', level: 'info', stage: 'Starting workspace', output });

interface Followed {
  lines: ProvisionerJobLog[];
  done: Promise<number>;
}

function follow(client: KilnClient, buildId: string): Followed {
  const f = client.followWorkspaceBuildLogs(buildId);
  const out: Followed = { lines: [], done: Promise.resolve(0) };
  out.done = (async () => {
    for await (const l of f) out.lines.push(l);
    return (await f.end).code;
  })();
  return out;
}

/** Every follower got exactly the stored lines, in id order, and closed with 1000. */
async function assertExact(followers: Followed[], pool: ServerContext['pool'], jobId: string): Promise<void> {
  const codes = await Promise.all(followers.map((f) => f.done));
  const stored = (await jobLogs(pool, jobId)).map((l) => (l as { id: number }).id);
  for (const [i, f] of followers.entries()) {
    assert.equal(codes[i], 1000, `follower ${i} closed normally`);
    assert.deepEqual(f.lines.map((l) => l.id), stored, `follower ${i}: every stored line once, in order`);
  }
}

describe('log followers', () => {
  let a: TestServer;
  let b: TestServer;
  let ctxA: ServerContext;
  let ctxB: ServerContext;
  let owner: Owner;
  let client: KilnClient;
  before(async () => {
    // No backstop during these tests unless one asks for it: every query counted is one a notification or a batch caused.
    const overrides = { followBackstopMs: 3_600_000 };
    a = await startTestServer({ provisionerDaemons: 0, overrides, config: { reaperIntervalMs: 3_600_000 } });
    b = await startTestServer({ provisionerDaemons: 0, overrides, database: a.db, config: { reaperIntervalMs: 3_600_000 } });
    ctxA = a.server.api.ctx;
    ctxB = b.server.api.ctx;
    const u = await a.createFirstUser();
    owner = { userId: u.userId, orgId: u.organizationId };
    client = u.client;
  });
  after(async () => {
    await b.close();
    await a.close();
  });

  /** A build whose job a test daemon (`worker`) holds, so the test sends its log batches itself. */
  const runningBuild = async () => {
    const t = await insertEchoTemplate(ctxA.pool, owner, {});
    const ws = await insertWorkspace(ctxA.pool, owner, t);
    const refs = await insertBuild(ctxA.pool, owner, t, ws);
    const worker = randomUUID();
    assert.equal((await acquireJob(ctxA, { id: worker, provisioners: ['echo'], tags: ORG_TAGS }))?.id, refs.jobId);
    return { ...refs, worker };
  };
  const attached = (ctx: ServerContext, n: number) =>
    waitFor(() => streamStats(ctx).followers >= n && streamStats(ctx).backlogs === 0, `${n} followers attached, backlogs sent`);

  it('lines sent through this server reach its followers from memory: no query per batch, every line once', async () => {
    const r = await runningBuild();
    const before = streamStats(ctxA);
    const followers = Array.from({ length: 10 }, () => follow(client, r.buildId));
    await attached(ctxA, before.followers + 10);
    await waitFor(() => streamStats(ctxA).backlogs === 0, 'every backlog sent');
    const afterBacklog = streamStats(ctxA);
    for (let i = 0; i < 20; i++) await updateJob(ctxA, r.worker, { job_id: r.jobId, logs: [line(`a${i}`), line(`b${i}`)] });
    await waitFor(() => followers.every((f) => f.lines.length === 40), 'every follower has the 40 lines');
    assert.equal(streamStats(ctxA).rowsQueries, afterBacklog.rowsQueries, 'no rows query after the backlog: the lines came from memory');
    await completeJob(ctxA, r.worker, { job_id: r.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
    await assertExact(followers, ctxA.pool, r.jobId);
  });

  it('followers on another replica, and batches inserted through another replica, stay gap-free and duplicate-free', async () => {
    const r = await runningBuild();
    const clientB = new KilnClient(b.url, { token: client.token });
    const beforeA = streamStats(ctxA).followers;
    const beforeB = streamStats(ctxB).followers;
    const followers = [follow(client, r.buildId), follow(client, r.buildId), follow(clientB, r.buildId), follow(clientB, r.buildId)];
    await attached(ctxA, beforeA + 2);
    await attached(ctxB, beforeB + 2);
    // The daemon's updates alternate between the replicas (a load balancer in front): A's followers miss B's batches
    // in memory and must notice the gap.
    for (let i = 0; i < 30; i++) await updateJob(i % 3 === 2 ? ctxB : ctxA, r.worker, { job_id: r.jobId, logs: [line(`x${i}`), line(`y${i}`)] });
    await completeJob(ctxA, r.worker, { job_id: r.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
    await assertExact(followers, ctxA.pool, r.jobId);
  });

  it('followers of one stream share one backstop query per tick, however many they are', async () => {
    const c = await startTestServer({ provisionerDaemons: 0, overrides: { followBackstopMs: 100 }, database: a.db, config: { reaperIntervalMs: 3_600_000 } });
    try {
      const ctxC = c.server.api.ctx;
      const r = await runningBuild();
      const clientC = new KilnClient(c.url, { token: client.token });
      const followers = Array.from({ length: 10 }, () => follow(clientC, r.buildId));
      await attached(ctxC, 10);
      await waitFor(() => streamStats(ctxC).rowsQueries >= 1, 'the backlog query');
      const start = streamStats(ctxC);
      await waitFor(() => streamStats(ctxC).backstopTicks >= start.backstopTicks + 5, 'five backstop ticks');
      const end = streamStats(ctxC);
      const ticks = end.backstopTicks - start.backstopTicks;
      // One query per tick (one more for a tick in progress), not one per follower; it reads the rows and whether the
      // job has finished together, so there is no "finished" query of its own.
      assert.ok(end.rowsQueries - start.rowsQueries <= ticks + 1, `${end.rowsQueries - start.rowsQueries} rows queries for ${ticks} ticks`);
      assert.equal(end.finishedQueries, start.finishedQueries, 'no separate "finished" query');
      await completeJob(ctxA, r.worker, { job_id: r.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
      await assertExact(followers, ctxA.pool, r.jobId);
    } finally {
      await c.close();
    }
  });

  it('followers joining while a catch-up query runs share the ONE query that starts after it, however many they are', async () => {
    const r = await runningBuild();
    for (let i = 0; i < 3; i++) await updateJob(ctxA, r.worker, { job_id: r.jobId, logs: [line(`early${i}`)] });
    // Every read of the log table waits behind this lock, so every follower joins while the first catch-up runs.
    const holder = await ctxA.pool.connect();
    let followers: Followed[] = [];
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE provisioner_job_logs IN ACCESS EXCLUSIVE MODE');
      const before = streamStats(ctxA);
      followers = Array.from({ length: 20 }, () => follow(client, r.buildId));
      await waitFor(() => streamStats(ctxA).followers >= before.followers + 20, '20 followers joined');
      await holder.query('COMMIT');
      await waitFor(() => streamStats(ctxA).backlogs === 0, 'every backlog sent');
      const queries = streamStats(ctxA).rowsQueries - before.rowsQueries;
      // The first follower's query, then one for all who came after it started (a third at most, for a follower whose
      // wake-up fell just after that one started): not one per follower.
      assert.ok(queries <= 3, `${queries} catch-up queries for 20 followers joining`);
      assert.ok(followers.every((f) => f.lines.length === 3), 'every follower has the three lines');
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      holder.release();
    }
    await completeJob(ctxA, r.worker, { job_id: r.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
    await assertExact(followers, ctxA.pool, r.jobId);
  });

  it("a build's logs cost one statement for the build, its workspace and its job, and one for the lines", async () => {
    const r = await runningBuild();
    await updateJob(ctxA, r.worker, { job_id: r.jobId, logs: [line('one')] });
    const route = '/api/v2/workspacebuilds/:workspacebuild/logs';
    const before = await routeStatements(a, 'GET', route);
    assert.deepEqual((await client.workspaceBuildLogs(r.buildId)).map((l) => l.output), ['one']);
    assert.equal((await routeStatements(a, 'GET', route)) - before, 2);
    await completeJob(ctxA, r.worker, { job_id: r.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
  });

  it("requests for one build's logs that come while its read runs share that read", async () => {
    const r = await runningBuild();
    await updateJob(ctxA, r.worker, { job_id: r.jobId, logs: [line('shared')] });
    const route = '/api/v2/workspacebuilds/:workspacebuild/logs';
    const before = await routeStatements(a, 'GET', route);
    // The build's read waits behind this lock, so the requests that follow it find it running.
    const holder = await ctxA.pool.connect();
    let answers: Promise<ProvisionerJobLog[]>[] = [];
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE workspaces IN ACCESS EXCLUSIVE MODE');
      answers = Array.from({ length: 20 }, () => client.workspaceBuildLogs(r.buildId));
      await waitFor(async () => {
        const { rows } = await ctxA.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%LEFT JOIN workspaces w%'",
        );
        return (rows[0]?.n ?? 0) > 0;
      }, 'a read of the build waiting');
      await holder.query('COMMIT');
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      holder.release();
    }
    for (const lines of await Promise.all(answers)) assert.deepEqual(lines.map((l) => l.output), ['shared']);
    // Alone, 20 requests cost 40 statements (the build's read and the lines each).
    const n = (await routeStatements(a, 'GET', route)) - before;
    assert.ok(n < 40, `${n} statements for 20 requests`);
    await completeJob(ctxA, r.worker, { job_id: r.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
  });

  it('followers survive a database blip: they resume from their cursor instead of closing with 1011', async () => {
    const r = await runningBuild();
    const beforeA = streamStats(ctxA).followers;
    const followers = [follow(client, r.buildId), follow(client, r.buildId), follow(client, r.buildId)];
    await attached(ctxA, beforeA + 3);
    for (let i = 0; i < 5; i++) await updateJob(ctxA, r.worker, { job_id: r.jobId, logs: [line(`before ${i}`)] });
    await waitFor(() => followers.every((f) => f.lines.length === 5), 'the first lines');
    // Every connection of both replicas to the database is cut (a restart, a failover), the listen connections too.
    const admin = await ctxA.pool.connect();
    try {
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    } finally {
      admin.release(true);
    }
    // Lines written while the followers' notifications are lost: through the other replica, so nothing is in memory.
    const send = async (ctx: ServerContext, output: string) =>
      waitFor(async () => {
        try {
          await updateJob(ctx, r.worker, { job_id: r.jobId, logs: [line(output)] });
          return true;
        } catch {
          return false; // a pooled connection that died with the blip
        }
      }, `send ${output}`);
    for (let i = 0; i < 5; i++) await send(ctxB, `during ${i}`);
    for (let i = 0; i < 5; i++) await send(ctxA, `after ${i}`);
    await waitFor(() => followers.every((f) => f.lines.length === 15), 'every line after the blip', 30_000);
    await completeJob(ctxA, r.worker, { job_id: r.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
    await assertExact(followers, ctxA.pool, r.jobId);
  });
});
