import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { ServerContext } from '../../src/api/context.js';
import { cancelJob } from '../../src/api/provisionerJobs/cancel.js';
import { getAgentsByResourceIDs, getAppsByAgentIDs, getResourcesByJobIDs } from '../../src/db/queries/workspaceResources.js';
import { jobLogsChannel } from '../../src/jobs/channels.js';
import { createTar } from '../../src/sdk/tar.js';
import { buildRow, insertBuild, insertEchoTemplate, insertFile, insertWorkspace, jobLogs, jobRow, type Owner } from '../harness/jobFixtures.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

describe('a built-in daemon running echo scripts', () => {
  let srv: TestServer;
  let ctx: ServerContext;
  let owner: Owner;
  let ownerClient: Awaited<ReturnType<TestServer['createFirstUser']>>['client'];

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1, config: { reaperIntervalMs: 3_600_000, daemonPollMs: 200 } });
    ctx = srv.server.api.ctx;
    const u = await srv.createFirstUser();
    owner = { userId: u.userId, orgId: u.organizationId };
    ownerClient = u.client;
  });
  after(async () => srv.close());

  async function build(echo: unknown, opts: Parameters<typeof insertBuild>[4] & { archive?: Uint8Array } = {}) {
    const t = await insertEchoTemplate(ctx.pool, owner, echo, { archive: opts.archive });
    const workspaceId = await insertWorkspace(ctx.pool, owner, t);
    return { ...(await insertBuild(ctx.pool, owner, t, workspaceId, opts)), t, workspaceId };
  }

  const finished = (jobId: string) => waitFor(async () => ((await jobRow(ctx.pool, jobId)).completed_at ? jobRow(ctx.pool, jobId) : undefined), `job ${jobId} to finish`);
  const running = (jobId: string) => waitFor(async () => (await jobRow(ctx.pool, jobId)).started_at, `job ${jobId} to start`);

  it('a script of more lines than the daemon queues (10,000) arrives whole and in order: the provisioner waits for room', async () => {
    const n = 25_000;
    const b = await build({ start: { logs: Array.from({ length: n }, (_, i) => ({ output: `line ${i}` })) } });
    const job = await finished(b.jobId);
    assert.equal(job.error, null);
    const lines = (await jobLogs(ctx.pool, b.jobId)).filter((l) => l.source === 'provisioner').map((l) => l.output);
    assert.equal(lines.length, n, 'no line dropped');
    assert.deepEqual(lines, Array.from({ length: n }, (_, i) => `line ${i}`));
    assert.equal((await jobLogs(ctx.pool, b.jobId)).filter((l) => /dropped/.test(l.output)).length, 0);
  });

  it('runs a start script: stage lines, logs, resources and state, then the build is running', async () => {
    const b = await build({
      start: {
        delay_ms: 5,
        logs: [{ output: 'hello' }, { level: 'warn', stage: 'Custom stage', output: 'custom' }],
        resources: [
          {
            name: 'dev',
            type: 'docker_container',
            metadata: [{ key: 'cpu', value: '2' }],
            agents: [{ name: 'main', apps: [{ slug: 'code', url: 'http://localhost:8080', healthcheck: { url: 'http://localhost:8080/h', interval: 5, threshold: 3 } }] }],
          },
        ],
        state: 'state after start',
      },
    });
    const job = await finished(b.jobId);
    assert.equal(job.error, null);
    const logs = await jobLogs(ctx.pool, b.jobId);
    assert.deepEqual(
      logs.map((l) => [l.source, l.level, l.stage, l.output]),
      [
        ['provisioner_daemon', 'info', 'Setting up', ''],
        ['provisioner_daemon', 'info', 'Starting workspace', ''],
        ['provisioner', 'info', 'Starting workspace', 'hello'],
        ['provisioner', 'warn', 'Custom stage', 'custom'],
        ['provisioner_daemon', 'info', 'Cleaning Up', ''],
      ],
    );
    assert.equal((await buildRow(ctx.pool, b.buildId)).provisioner_state?.toString(), 'state after start');
    const resources = await getResourcesByJobIDs(ctx.pool, [b.jobId]);
    assert.deepEqual(resources.map((r) => r.name), ['dev']);
    const agents = await getAgentsByResourceIDs(ctx.pool, resources.map((r) => r.id));
    const apps = await getAppsByAgentIDs(ctx.pool, agents.map((a) => a.id));
    assert.deepEqual(apps.map((a) => [a.slug, a.health]), [['code', 'initializing']]);
    // The same build through the API: the daemon's work is what the routes show.
    const wire = await ownerClient.workspaceBuild(b.buildId);
    assert.equal(wire.status, 'running');
    assert.equal(wire.job.worker_id, srv.server.daemons.daemons[0]?.id);
  });

  it('fails a build with the script error and keeps the state it reported', async () => {
    const b = await build({ start: { logs: [{ output: 'trying' }], error: 'failed!', state: 'partial' } }, { state: 'before' });
    const job = await finished(b.jobId);
    assert.equal(job.error, 'failed!');
    assert.equal((await buildRow(ctx.pool, b.buildId)).provisioner_state?.toString(), 'partial');
    assert.equal((await jobLogs(ctx.pool, b.jobId)).at(-1)?.stage, 'Cleaning Up');
  });

  it('stops a hanging build on a cancel seen only through the heartbeat', async () => {
    const b = await build({ start: { logs: [{ output: 'working' }], hang: true } });
    await waitFor(async () => (await jobLogs(ctx.pool, b.jobId)).some((l) => l.output === 'working'), 'the script to start');
    const end = new Promise<void>((resolve) => {
      void ctx.pubsub.subscribe(jobLogsChannel(b.jobId), { message: (m) => JSON.parse(m).end_of_logs && resolve() });
    });
    // No notification: only the heartbeat reply can tell the daemon.
    await ctx.pool.query('UPDATE provisioner_jobs SET canceled_at = now() WHERE id = $1', [b.jobId]);
    // The script would hang for ever and no notification was sent: the job ending at all shows the heartbeat's reply
    // carried the cancel (and how fast is the heartbeat interval's business, not a wall-clock assertion's).
    const job = await finished(b.jobId);
    assert.equal(job.error, 'canceled');
    assert.ok(job.canceled_at);
    assert.equal((await ownerClient.workspaceBuild(b.buildId)).status, 'failed');
    await end;
  });

  it('stops a hanging build at once when canceled through the API path (cancel notification)', async () => {
    const b = await build({ start: { hang: true } });
    await running(b.jobId);
    await waitFor(async () => (await jobLogs(ctx.pool, b.jobId)).some((l) => l.stage === 'Starting workspace'), 'the provisioner to run');
    await cancelJob(ctx, b.jobId);
    const job = await finished(b.jobId);
    assert.equal(job.error, 'canceled');
  });

  it('never runs the provisioner for an orphan delete, and deletes the workspace', async () => {
    // If the delete script ran, the job would fail.
    const b = await build({ delete: { logs: [{ output: 'destroying' }], error: 'the provisioner was called' } }, { transition: 'delete', orphan: true, state: 'precious' });
    const job = await finished(b.jobId);
    assert.equal(job.error, null);
    const logs = await jobLogs(ctx.pool, b.jobId);
    assert.equal(logs.filter((l) => l.source === 'provisioner').length, 0);
    const warns = logs.filter((l) => l.level === 'warn');
    assert.equal(warns.length, 1);
    assert.equal(warns[0]?.source, 'provisioner_daemon');
    assert.match(warns[0]?.output ?? '', /left in place/);
    const { rows } = await ctx.pool.query<{ deleted: boolean }>('SELECT deleted FROM workspaces WHERE id = $1', [b.workspaceId]);
    assert.equal(rows[0]?.deleted, true);
    assert.equal((await buildRow(ctx.pool, b.buildId)).provisioner_state?.length, 0);
  });

  it('hands the build its state and parameters', async () => {
    const t = await insertEchoTemplate(ctx.pool, owner, { stop: { echo_state: true, echo_parameters: true } });
    const ws = await insertWorkspace(ctx.pool, owner, t);
    await ctx.pool.query(
      `INSERT INTO parameter_values (id, created_at, updated_at, scope, scope_id, name, source_scheme, source_value, destination_scheme)
       VALUES (gen_random_uuid(), now(), now(), 'workspace', $1, 'region', 'data', 'eu', 'environment_variable')`,
      [ws],
    );
    const b = await insertBuild(ctx.pool, owner, t, ws, { transition: 'stop', state: 'from build 1' });
    await finished(b.jobId);
    const out = (await jobLogs(ctx.pool, b.jobId)).filter((l) => l.source === 'provisioner').map((l) => [l.stage, l.output]);
    assert.deepEqual(out, [
      ['Stopping workspace', 'state: from build 1'],
      ['Stopping workspace', 'param region=eu'],
    ]);
  });

  it('runs a template import: its stage, and the resources on the import job', async () => {
    const fileId = await insertFile(ctx.pool, owner, createTar({ 'echo.json': JSON.stringify({ import: { logs: [{ output: 'parsing' }], resources: [{ name: 'preview', type: 'vm' }] } }) }));
    const jobId = randomUUID();
    const versionId = randomUUID();
    await ctx.pool.query(
      `WITH j AS (INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, type, input, file_id, tags)
                  VALUES ($1, now(), now(), $2, $3, 'echo', 'template_version_import', $4, $5, '{"scope":"organization"}') RETURNING id)
       INSERT INTO template_versions (id, organization_id, created_at, updated_at, name, job_id, created_by)
       SELECT $6, $2, now(), now(), 'imp', j.id, $3 FROM j`,
      [jobId, owner.orgId, owner.userId, JSON.stringify({ template_version_id: versionId }), fileId, versionId],
    );
    // Inserted without the enqueue NOTIFY: the slow poll is the backstop that still finds it.
    const job = await waitFor(async () => ((await jobRow(ctx.pool, jobId)).completed_at ? jobRow(ctx.pool, jobId) : undefined), 'the import');
    assert.equal(job.error, null);
    const logs = await jobLogs(ctx.pool, jobId);
    assert.deepEqual(logs.map((l) => [l.stage, l.output]), [
      ['Setting up', ''],
      ['Parsing template parameters', ''],
      ['Parsing template parameters', 'parsing'],
      ['Cleaning Up', ''],
    ]);
    assert.deepEqual((await getResourcesByJobIDs(ctx.pool, [jobId])).map((r) => [r.name, r.transition]), [['preview', 'start']]);
  });

  it('fails the job with a clear error for a hostile archive or invalid resources', async () => {
    const evil = await build({}, { archive: createTar([{ path: '../x', content: 'escape' }]) });
    assert.match((await finished(evil.jobId)).error ?? '', /^unpack template archive: entry "\.\.\/x" escapes the template directory/);
    const dup = await build({ start: { resources: [{ name: 'r', type: 't', agents: [{ name: 'a', apps: [{ slug: 'x' }, { slug: 'x' }] }] }] } });
    assert.match((await finished(dup.jobId)).error ?? '', /duplicate app slug, must be unique per template: "x"/);
    assert.deepEqual(await getResourcesByJobIDs(ctx.pool, [dup.jobId]), []);
  });

  it('an echo build reads its template in memory: nothing is unpacked into the daemon\'s work directory', async () => {
    const serverId = (await readFile(path.join(srv.dataDir, 'server-id'), 'utf8')).trim();
    const workDir = path.join(os.tmpdir(), `kiln-jobs-${serverId}`);
    const b = await build({ start: { logs: [{ output: 'from memory' }], hang: true } });
    await waitFor(async () => (await jobLogs(ctx.pool, b.jobId)).some((l) => l.output === 'from memory'), 'the script to run');
    assert.deepEqual(await readdir(workDir), [], 'no job directory while the build runs');
    await cancelJob(ctx, b.jobId);
    await finished(b.jobId);
  });

  it('lists the daemon with the job it is running', async () => {
    const b = await build({ start: { hang: true } });
    await running(b.jobId);
    const daemons = await ownerClient.provisionerDaemons(owner.orgId);
    assert.equal(daemons.length, 1);
    const d = daemons[0];
    assert.ok(d);
    // terraform is offered where the server found a usable binary (it is on CI machines).
    assert.deepEqual(d.provisioners, srv.server.terraform.ok ? ['echo', 'local', 'terraform'] : ['echo', 'local']);
    assert.deepEqual(d.tags, { scope: 'organization' });
    assert.equal(d.current_job_id, b.jobId);
    assert.ok(d.last_seen_at);
    await cancelJob(ctx, b.jobId);
    await finished(b.jobId);
    assert.equal((await ownerClient.provisionerDaemons(owner.orgId))[0]?.current_job_id, undefined);
    const other = await srv.createUser(ownerClient);
    await assert.rejects(other.client.provisionerDaemons(randomUUID()), { status: 404 });
  });
});
