import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { ServerContext } from '../../src/api/context.js';
import { fileBytes } from '../../src/api/provisionerdserver/fileBytes.js';
import { acquiredJobPayload } from '../../src/api/provisionerdserver/payload.js';
import { acquireJob } from '../../src/jobs/acquire.js';
import { completeJob } from '../../src/jobs/complete.js';
import { updateJob } from '../../src/jobs/update.js';
import type { KilnClient } from '../../src/sdk/client.js';
import { insertEchoTemplate, insertWorkspace, type Owner } from '../harness/jobFixtures.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { countStatements, routeStatements } from '../harness/statements.js';

/** Statements of `fn` on this file's server (countStatements). */
let count: <T>(fn: () => Promise<T>) => Promise<{ n: number; value: T }>;

/**
 * The statement counts docs/ARCHITECTURE.md gives per write operation. A change that adds a round trip to one of these
 * paths fails here and must update the table.
 */
describe('statements per write operation', () => {
  let srv: TestServer;
  let ctx: ServerContext;
  let owner: Owner;
  let client: KilnClient;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0, config: { reaperIntervalMs: 3_600_000 } });
    ctx = srv.server.api.ctx;
    count = (fn) => countStatements(ctx.pubsub, fn);
    const u = await srv.createFirstUser();
    owner = { userId: u.userId, orgId: u.organizationId };
    client = u.client;
    await client.me(); // the session key is now known: authentication costs nothing below
  });
  after(async () => srv.close());

  it('build creation, acquisition, a log batch, a heartbeat and completion', async () => {
    const t = await insertEchoTemplate(ctx.pool, owner, {});
    const ws = await insertWorkspace(ctx.pool, owner, t);
    const route = '/api/v2/workspaces/:workspace/builds';
    const before = await routeStatements(srv, 'POST', route);
    const build = await client.createWorkspaceBuild(ws, { transition: 'start', template_version_id: t.versionId });
    const post = (await routeStatements(srv, 'POST', route)) - before;
    // The insert answered with the build's view: what a read of the build says (no daemon runs here: still pending).
    assert.deepEqual(build, await client.workspaceBuild(build.id));
    // Behind it in the queue, a second build's answer counts both (its own job is not yet visible to its statement).
    const behind = await client.createWorkspaceBuild(await insertWorkspace(ctx.pool, owner, t), { transition: 'start', template_version_id: t.versionId });
    assert.deepEqual([behind.job.queue_position, behind.job.queue_size], [2, 2]);
    assert.deepEqual(behind, await client.workspaceBuild(behind.id));
    const worker = randomUUID();
    const acquire = await count(() => acquireJob(ctx, { id: worker, provisioners: ['echo'], tags: { scope: 'organization' } }));
    assert.equal(acquire.value?.id, build.job.id);
    // The build's payload came with the acquisition; read on its own it is one statement, and the same.
    const acquired = acquire.value;
    assert.ok(acquired?.buildPayload, 'the acquisition read the payload');
    await fileBytes(ctx, acquired.file_id); // the template archive, kept in memory after its first read
    const payload = await count(() => acquiredJobPayload(ctx, acquired));
    const payloadAlone = await count(() => acquiredJobPayload(ctx, { ...acquired, buildPayload: undefined }));
    assert.equal(payload.value.workspace_build?.workspace_build_id, build.id);
    assert.deepEqual(payload.value, payloadAlone.value);
    // A time with milliseconds, as a daemon stamps it; each path stores it exactly (times travel as float8 ms).
    const at = Date.UTC(2026, 11, 1, 12, 34, 56, 789);
    const line = { created_at: at, source: 'provisioner' as const, level: 'info' as const, stage: 'Starting workspace', output: 'hello' };
    const lastLogId = async () =>
      (await ctx.pool.query<{ last_log_id: number; max: number }>(
        'SELECT last_log_id, (SELECT max(id) FROM provisioner_job_logs WHERE job_id = $1)::int AS max FROM provisioner_jobs WHERE id = $1',
        [build.job.id],
      )).rows[0];
    // The first batch: the server remembers the job's log budget from the acquisition, one statement (update.ts).
    const logs = await count(() => updateJob(ctx, worker, { job_id: build.job.id, logs: [line, line] }));
    const afterFirst = await lastLogId();
    assert.equal(afterFirst?.last_log_id, afterFirst?.max, 'the one-statement path keeps the newest line id');
    // A server that remembers nothing of the job (another replica; here a context of its own) takes the locked path.
    const elsewhere = { ...ctx };
    const lockedLogs = await count(() => updateJob(elsewhere, worker, { job_id: build.job.id, logs: [{ ...line, created_at: at + 1 }] }));
    const afterLocked = await lastLogId();
    assert.equal(afterLocked?.last_log_id, afterLocked?.max, 'the locked path keeps the newest line id');
    assert.ok((afterLocked?.max ?? 0) > (afterFirst?.max ?? 0));
    // The first server's memory is now stale: its next batch finds the row changed and takes the locked path too.
    const staleLogs = await count(() => updateJob(ctx, worker, { job_id: build.job.id, logs: [{ ...line, created_at: at + 2 }] }));
    // ...and remembers again: the batch after is one statement.
    const moreLogs = await count(() => updateJob(ctx, worker, { job_id: build.job.id, logs: [{ ...line, created_at: at + 3 }] }));
    const stored = await ctx.pool.query<{ created_at: Date }>('SELECT created_at FROM provisioner_job_logs WHERE job_id = $1 ORDER BY id', [build.job.id]);
    assert.deepEqual(stored.rows.map((r) => r.created_at.getTime()), [at, at, at + 1, at + 2, at + 3]);
    // Every path keeps the job's newest line id, which local followers rely on (src/jobs/localLogFeed.ts).
    const afterMore = await lastLogId();
    assert.equal(afterMore?.last_log_id, afterMore?.max, 'the one-statement path keeps the newest line id');
    const heartbeat = await count(() => updateJob(ctx, worker, { job_id: build.job.id, logs: [] }));
    const complete = await count(() => completeJob(ctx, worker, { job_id: build.job.id, workspace_build: { state: new Uint8Array(0), resources: [] } }));
    // The next build names no version: the latest build's is read in the same statement.
    const beforeNext = await routeStatements(srv, 'POST', route);
    const next = await client.createWorkspaceBuild(ws, { transition: 'stop' });
    const postLatestVersion = (await routeStatements(srv, 'POST', route)) - beforeNext;
    assert.equal(next.template_version_id, t.versionId);
    const counts = {
      post, postLatestVersion, acquire: acquire.n, payload: payload.n, payloadAlone: payloadAlone.n, logs: logs.n, lockedLogs: lockedLogs.n, staleLogs: staleLogs.n, moreLogs: moreLogs.n, heartbeat: heartbeat.n,
      complete: complete.n,
    };
    // Each operation that tells anyone (all but the payload reads and the heartbeat) ends with the notification statement
    // it started once it had committed (src/db/pubsub.ts); alone here, under load one such statement carries what many
    // operations published meanwhile. post: a plain build, so ONE statement reads what it is decided from, checks it,
    // inserts the job and build and answers with the build's view (createPlainBuild); its two notifications in one. staleLogs: the one statement that found the
    // row changed, then the locked path's four. complete: one statement for the job and its build, which checks the job
    // as it locks it; the job's end announced.
    assert.deepEqual(counts, { post: 2, postLatestVersion: 2, acquire: 2, payload: 0, payloadAlone: 1, logs: 2, lockedLogs: 5, staleLogs: 6, moreLogs: 2, heartbeat: 1, complete: 2 });
  });
});
