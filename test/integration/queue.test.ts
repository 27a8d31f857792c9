import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { ServerContext } from '../../src/api/context.js';
import { InProcessProvisionerdClient } from '../../src/api/provisionerdserver/client.js';
import { getAgentsByResourceIDs, getAppsByAgentIDs, getMetadataByResourceIDs, getResourcesByJobIDs } from '../../src/db/queries/workspaceResources.js';
import { acquireJob } from '../../src/jobs/acquire.js';
import { jobLogsChannel, workspaceChannel } from '../../src/jobs/channels.js';
import { completeJob, failJob } from '../../src/jobs/complete.js';
import { localOrigin } from '../../src/jobs/localLogFeed.js';
import { updateJob } from '../../src/jobs/update.js';
import { isProvisionerdError, type JobLog, type ProvisionedResource } from '../../src/sdk/types/provisionerd.js';
import { buildRow, insertBareJob, insertBuild, insertEchoTemplate, insertWorkspace, jobLogs, jobRow, type Owner } from '../harness/jobFixtures.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

const ORG_TAGS = { scope: 'organization' };

function line(output: string, stage = 'Starting workspace'): JobLog {
  return { created_at: Date.now(), source: 'provisioner', level: 'info', stage, output };
}

/** Collects what is published on a channel. */
async function listen(ctx: ServerContext, channel: string): Promise<{ messages: string[]; stop: () => void }> {
  const messages: string[] = [];
  const stop = await ctx.pubsub.subscribe(channel, { message: (p) => messages.push(p) });
  return { messages, stop };
}

async function expectProvisionerdError(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(isProvisionerdError(e), `expected a ProvisionerdError, got ${String(e)}`);
    assert.equal(e.code, code);
    return;
  }
  assert.fail(`expected ${code}`);
}

describe('the job queue', () => {
  let srv: TestServer;
  let ctx: ServerContext;
  let owner: Owner;
  let fileId: string;

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0, config: { reaperIntervalMs: 3_600_000 } });
    ctx = srv.server.api.ctx;
    const u = await srv.createFirstUser();
    owner = { userId: u.userId, orgId: u.organizationId };
    fileId = (await insertEchoTemplate(ctx.pool, owner, {})).fileId;
  });
  after(async () => srv.close());

  it('hands each of 1,000 queued jobs to exactly one of 8 concurrent acquirers', async () => {
    const base = Date.now() - 10_000;
    const { rows } = await ctx.pool.query<{ id: string }>(
      `INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, type, input, file_id, tags)
       SELECT gen_random_uuid(), to_timestamp($1::double precision / 1000) + (g * interval '1 millisecond'), now(), $2, $3, 'bulk', 'template_version_import', '{}', $4, '{"scope":"organization"}'
       FROM generate_series(1, 1000) AS g RETURNING id`,
      [base, owner.orgId, owner.userId, fileId],
    );
    const queued = new Set(rows.map((r) => r.id));
    const got = new Map<string, string>();
    const workers = Array.from({ length: 8 }, () => randomUUID());
    await Promise.all(
      workers.map(async (worker) => {
        for (;;) {
          const job = await acquireJob(ctx, { id: worker, provisioners: ['bulk'], tags: ORG_TAGS });
          if (!job) return;
          assert.ok(!got.has(job.id), `job ${job.id} handed out twice`);
          got.set(job.id, worker);
        }
      }),
    );
    assert.equal(got.size, 1000);
    for (const id of queued) assert.ok(got.has(id), `job ${id} never handed out`);
    const { rows: stamped } = await ctx.pool.query<{ id: string; worker_id: string }>(
      `SELECT id, worker_id FROM provisioner_jobs WHERE provisioner = 'bulk' AND started_at IS NOT NULL`,
    );
    assert.equal(stamped.length, 1000);
    for (const r of stamped) assert.equal(r.worker_id, got.get(r.id));
    // Every acquirer took part: SKIP LOCKED lets them work side by side instead of queueing on one row.
    assert.ok(new Set(got.values()).size > 1);
  });

  it('matches provisioner and tags, skips canceled and completed jobs, and takes the oldest first', async () => {
    const t0 = Date.now() - 60_000;
    const at = (s: number) => new Date(t0 + s * 1000);
    const canceled = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'match', createdAt: at(1), canceled: true });
    const completed = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'match', createdAt: at(2), completed: true });
    const otherType = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'other', createdAt: at(3) });
    const euJob = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'match', createdAt: at(4), tags: { scope: 'organization', region: 'eu' } });
    const plainNewer = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'match', createdAt: at(6) });
    const plainOlder = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'match', createdAt: at(5) });

    const plainDaemon = { id: randomUUID(), provisioners: ['match'], tags: ORG_TAGS };
    // A daemon without region=eu must never get the eu job; the two plain ones come oldest first.
    assert.equal((await acquireJob(ctx, plainDaemon))?.id, plainOlder);
    assert.equal((await acquireJob(ctx, plainDaemon))?.id, plainNewer);
    assert.equal(await acquireJob(ctx, plainDaemon), undefined);
    // A daemon with more tags than the job needs takes it (job tags ⊆ daemon tags).
    const euDaemon = { id: randomUUID(), provisioners: ['match'], tags: { scope: 'organization', region: 'eu', gpu: 'yes' } };
    assert.equal((await acquireJob(ctx, euDaemon))?.id, euJob);
    assert.equal(await acquireJob(ctx, euDaemon), undefined);
    // Canceled and completed jobs are never started; the other provisioner's job waits for its own daemon.
    for (const id of [canceled, completed]) assert.equal((await jobRow(ctx.pool, id)).started_at, null);
    assert.equal((await acquireJob(ctx, { id: randomUUID(), provisioners: ['other'], tags: ORG_TAGS }))?.id, otherType);
  });

  it('stores a log batch in order with increasing ids and announces it', async () => {
    const worker = randomUUID();
    const id = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'logs' });
    assert.equal((await acquireJob(ctx, { id: worker, provisioners: ['logs'], tags: ORG_TAGS }))?.id, id);
    const sub = await listen(ctx, jobLogsChannel(id));
    try {
      const batch = Array.from({ length: 150 }, (_, i) => line(`line ${i}`));
      assert.deepEqual(await updateJob(ctx, worker, { job_id: id, logs: batch }), { canceled: false });
      await updateJob(ctx, worker, { job_id: id, logs: [line('after')] });
      const logs = await jobLogs(ctx.pool, id);
      assert.deepEqual(
        logs.map((l) => l.output),
        [...batch.map((l) => l.output), 'after'],
      );
      for (let i = 1; i < logs.length; i++) assert.ok((logs[i] as { id: number }).id > (logs[i - 1] as { id: number }).id);
      await waitFor(() => sub.messages.length >= 2, 'two log notifications');
      // Each announcement names the batch's range: after the line before it, up to its newest line (last_id).
      const lineId = (i: number) => (logs[i] as { id: number }).id;
      assert.deepEqual(JSON.parse(sub.messages[0] as string), { created_after: lineId(0) - 1, last_id: lineId(149), origin: localOrigin(ctx.pubsub) });
      assert.deepEqual(JSON.parse(sub.messages[1] as string), { created_after: lineId(150) - 1, last_id: lineId(150), origin: localOrigin(ctx.pubsub) });
      const job = (await ctx.pool.query<{ last_log_id: number }>('SELECT last_log_id FROM provisioner_jobs WHERE id = $1', [id])).rows[0];
      assert.equal(job?.last_log_id, lineId(150), "the job row knows its newest line (the local followers' cursor check)");
    } finally {
      sub.stop();
    }
  });

  it('heartbeats, reports the cancel flag, and refuses other workers and finished jobs', async () => {
    const worker = randomUUID();
    const id = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'hb' });
    await expectProvisionerdError(updateJob(ctx, worker, { job_id: id, logs: [] }), 'not_running');
    await acquireJob(ctx, { id: worker, provisioners: ['hb'], tags: ORG_TAGS });
    await ctx.pool.query(`UPDATE provisioner_jobs SET updated_at = now() - interval '1 hour' WHERE id = $1`, [id]);
    const before = (await jobRow(ctx.pool, id)).updated_at;
    assert.deepEqual(await updateJob(ctx, worker, { job_id: id, logs: [] }), { canceled: false });
    assert.ok((await jobRow(ctx.pool, id)).updated_at > before, 'the heartbeat moves updated_at');
    await expectProvisionerdError(updateJob(ctx, randomUUID(), { job_id: id, logs: [line('x')] }), 'not_owner');
    await expectProvisionerdError(updateJob(ctx, randomUUID(), { job_id: id, logs: [] }), 'not_owner');
    await ctx.pool.query('UPDATE provisioner_jobs SET canceled_at = now() WHERE id = $1', [id]);
    assert.deepEqual(await updateJob(ctx, worker, { job_id: id, logs: [] }), { canceled: true });
    await failJob(ctx, worker, { job_id: id, error: 'canceled' });
    await expectProvisionerdError(updateJob(ctx, worker, { job_id: id, logs: [line('late')] }), 'already_completed');
    await expectProvisionerdError(failJob(ctx, worker, { job_id: id, error: 'again' }), 'already_completed');
    await expectProvisionerdError(completeJob(ctx, worker, { job_id: id, template_import: { start_resources: [] } }), 'already_completed');
  });

  it('caps a job\'s logs, truncates long lines, and says so once', async () => {
    const small = { ...ctx, options: { ...ctx.options, maxJobLogBytes: 1000 } };
    const worker = randomUUID();
    const id = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'cap' });
    await acquireJob(ctx, { id: worker, provisioners: ['cap'], tags: ORG_TAGS });
    await updateJob(small, worker, { job_id: id, logs: [line('a'.repeat(300)), line('b'.repeat(300))] });
    await updateJob(small, worker, { job_id: id, logs: [line('c'.repeat(300)), line('d'.repeat(300)), line('e'.repeat(10))] });
    await updateJob(small, worker, { job_id: id, logs: [line('f')] });
    const logs = await jobLogs(ctx.pool, id);
    assert.deepEqual(
      logs.map((l) => l.output[0]),
      ['a', 'b', 'c', 'k'],
    );
    const warn = logs[3] as { source: string; level: string; output: string };
    assert.equal(warn.level, 'warn');
    assert.equal(warn.source, 'provisioner_daemon');
    assert.match(warn.output, /reached the limit of 1000 bytes/);
    const row = await jobRow(ctx.pool, id);
    assert.equal(row.logs_overflowed, true);
    assert.equal(row.logs_length, 900);

    // A single line over 64 KiB is cut, not refused (and never split inside a character).
    const id2 = await insertBareJob(ctx.pool, owner, fileId, { provisioner: 'cap' });
    await acquireJob(ctx, { id: worker, provisioners: ['cap'], tags: ORG_TAGS });
    await updateJob(ctx, worker, { job_id: id2, logs: [line('é'.repeat(40_000))] });
    const [long] = await jobLogs(ctx.pool, id2);
    assert.ok(long);
    assert.equal(Buffer.byteLength(long.output), 64 * 1024);
    assert.equal(long.output, 'é'.repeat(32 * 1024));
  });
});

describe('completing and failing workspace builds', () => {
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

  /** A queued build acquired by a fresh worker. */
  async function runningBuild(opts: { transition?: 'start' | 'stop' | 'delete'; state?: string; ttlMs?: number | null; defaultTtlMs?: number } = {}) {
    const t = await insertEchoTemplate(ctx.pool, owner, {}, { defaultTtlMs: opts.defaultTtlMs });
    const workspaceId = await insertWorkspace(ctx.pool, owner, t, { ttlMs: opts.ttlMs });
    const refs = await insertBuild(ctx.pool, owner, t, workspaceId, { transition: opts.transition, state: opts.state });
    const worker = randomUUID();
    const ws = await listen(ctx, workspaceChannel(workspaceId));
    const job = await acquireJob(ctx, { id: worker, provisioners: ['echo'], tags: ORG_TAGS });
    assert.equal(job?.id, refs.jobId);
    // Acquiring a build tells the workspace's watchers that it started.
    await waitFor(() => ws.messages.length >= 1, 'workspace notification on acquire');
    return { ...refs, t, workspaceId, worker, ws };
  }

  const resources: ProvisionedResource[] = [
    {
      name: 'dev',
      type: 'docker_container',
      icon: '/icon/docker.png',
      daily_cost: 3,
      metadata: [
        { key: 'cpu', value: '2' },
        { key: 'arch', value: 'amd64', sensitive: true },
      ],
      agents: [
        {
          name: 'main',
          auth_token: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
          architecture: 'amd64',
          operating_system: 'linux',
          directory: '/home/dev',
          startup_script: 'echo hi',
          environment_variables: { FOO: 'bar' },
          connection_timeout_seconds: 120,
          apps: [
            { slug: 'zed', display_name: 'Zed', url: 'http://localhost:9000' },
            { slug: 'code', display_name: 'VS Code', url: 'http://localhost:8080', healthcheck: { url: 'http://localhost:8080/healthz', interval: 5, threshold: 3 } },
          ],
        },
        { name: 'second' },
      ],
    },
    { name: 'volume', type: 'docker_volume', hide: true },
  ];

  it('completes a start build in one transaction: state, deadline, resources in provisioner order, notifications', async () => {
    const b = await runningBuild({ state: 'old state', ttlMs: 3_600_000 });
    const logs = await listen(ctx, jobLogsChannel(b.jobId));
    const before = Date.now();
    await completeJob(ctx, b.worker, { job_id: b.jobId, workspace_build: { state: new TextEncoder().encode('new state'), resources } });
    const job = await jobRow(ctx.pool, b.jobId);
    assert.ok(job.completed_at);
    assert.equal(job.error, null);
    const build = await buildRow(ctx.pool, b.buildId);
    assert.equal(build.provisioner_state?.toString(), 'new state');
    assert.ok(build.deadline && build.deadline.getTime() >= before + 3_600_000 - 1000 && build.deadline.getTime() <= Date.now() + 3_600_000 + 1000);

    const res = await getResourcesByJobIDs(ctx.pool, [b.jobId]);
    assert.deepEqual(res.map((r) => [r.name, r.type, r.transition, r.hide, r.daily_cost]), [
      ['dev', 'docker_container', 'start', false, 3],
      ['volume', 'docker_volume', 'start', true, 0],
    ]);
    const meta = await getMetadataByResourceIDs(ctx.pool, res.map((r) => r.id));
    assert.deepEqual(meta.map((m) => [m.key, m.value, m.sensitive]), [
      ['cpu', '2', false],
      ['arch', 'amd64', true],
    ]);
    const agents = await getAgentsByResourceIDs(ctx.pool, res.map((r) => r.id));
    assert.deepEqual(agents.map((a) => a.name), ['main', 'second']);
    const main = agents[0];
    assert.ok(main);
    assert.equal(main.auth_token, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', 'a template token is used as given');
    assert.match(agents[1]?.auth_token ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(main.environment_variables, { FOO: 'bar' });
    assert.equal(main.startup_script, 'echo hi');
    assert.equal(main.connection_timeout_seconds, 120);
    const apps = await getAppsByAgentIDs(ctx.pool, [main.id]);
    assert.deepEqual(apps.map((a) => [a.slug, a.health, a.healthcheck_interval, a.sharing_level]), [
      ['zed', 'disabled', 0, 'owner'],
      ['code', 'initializing', 5, 'owner'],
    ]);
    await waitFor(() => logs.messages.some((m) => JSON.parse(m).end_of_logs === true), 'end_of_logs');
    await waitFor(() => b.ws.messages.length >= 2, 'workspace notification on completion');
    logs.stop();
    b.ws.stop();
  });

  it('uses the template default TTL without a workspace TTL, sets no deadline for stop builds, and clears state on an empty report', async () => {
    const a = await runningBuild({ defaultTtlMs: 60_000 });
    await completeJob(ctx, a.worker, { job_id: a.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
    const da = (await buildRow(ctx.pool, a.buildId)).deadline;
    assert.ok(da && Math.abs(da.getTime() - Date.now() - 60_000) < 5_000);

    const s = await runningBuild({ transition: 'stop', state: 'keep?', ttlMs: 60_000 });
    await completeJob(ctx, s.worker, { job_id: s.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
    const stop = await buildRow(ctx.pool, s.buildId);
    assert.equal(stop.deadline, null);
    assert.equal(stop.provisioner_state?.length ?? 0, 0, 'state is replaced wholesale');

    const z = await runningBuild({ ttlMs: 0, defaultTtlMs: 60_000 });
    await completeJob(ctx, z.worker, { job_id: z.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
    assert.equal((await buildRow(ctx.pool, z.buildId)).deadline, null, 'a workspace TTL of 0 means no autostop');
  });

  it("a build's success from another worker, or twice, is refused with the reason and changes nothing", async () => {
    const b = await runningBuild({ state: 'kept', ttlMs: 60_000 });
    const report = { job_id: b.jobId, workspace_build: { state: new TextEncoder().encode('other'), resources: [] } };
    await expectProvisionerdError(completeJob(ctx, randomUUID(), report), 'not_owner');
    assert.equal((await jobRow(ctx.pool, b.jobId)).completed_at, null);
    assert.equal((await buildRow(ctx.pool, b.buildId)).provisioner_state?.toString(), 'kept');
    await completeJob(ctx, b.worker, { ...report, workspace_build: { state: new TextEncoder().encode('mine'), resources: [] } });
    await expectProvisionerdError(completeJob(ctx, b.worker, report), 'already_completed');
    assert.equal((await buildRow(ctx.pool, b.buildId)).provisioner_state?.toString(), 'mine');
  });

  it('soft-deletes the workspace when a delete build completes', async () => {
    const d = await runningBuild({ transition: 'delete', state: 'st' });
    await completeJob(ctx, d.worker, { job_id: d.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });
    const { rows } = await ctx.pool.query<{ deleted: boolean }>('SELECT deleted FROM workspaces WHERE id = $1', [d.workspaceId]);
    assert.equal(rows[0]?.deleted, true);
  });

  for (const [what, bad, message] of [
    ['an invalid app slug', [{ name: 'r', type: 't', agents: [{ name: 'a', apps: [{ slug: 'Bad_Slug' }] }] }], /app slug "Bad_Slug" does not match regex/],
    ['duplicate app slugs', [{ name: 'r', type: 't', agents: [{ name: 'a', apps: [{ slug: 'x' }, { slug: 'x' }] }] }], /duplicate app slug, must be unique per template: "x"/],
    ['duplicate agent names across resources', [{ name: 'r1', type: 't', agents: [{ name: 'a' }] }, { name: 'r2', type: 't', agents: [{ name: 'a' }] }], /duplicate agent name "a"/],
    ['a malformed auth token', [{ name: 'r', type: 't', agents: [{ name: 'a', auth_token: 'nope' }] }], /invalid auth token format; must be uuid/],
  ] as [string, ProvisionedResource[], RegExp][]) {
    it(`fails the job, writing nothing, for ${what}`, async () => {
      const b = await runningBuild({ state: 'before' });
      await completeJob(ctx, b.worker, { job_id: b.jobId, workspace_build: { state: new TextEncoder().encode('after'), resources: [resources[1] as ProvisionedResource, ...bad] } });
      const job = await jobRow(ctx.pool, b.jobId);
      assert.ok(job.completed_at);
      assert.match(job.error ?? '', /^The provisioner reported invalid resources: /);
      assert.match(job.error ?? '', message);
      assert.deepEqual(await getResourcesByJobIDs(ctx.pool, [b.jobId]), []);
      // What the provisioner made is still tracked: the reported state replaces the old one.
      assert.equal((await buildRow(ctx.pool, b.buildId)).provisioner_state?.toString(), 'after');
    });
  }

  it('fails a build with a non-empty error, replacing state only when one is reported', async () => {
    const a = await runningBuild({ state: 'previous' });
    const logs = await listen(ctx, jobLogsChannel(a.jobId));
    await failJob(ctx, a.worker, { job_id: a.jobId, error: '', workspace_build: {} });
    const job = await jobRow(ctx.pool, a.jobId);
    assert.ok(job.completed_at);
    assert.ok(job.error && job.error.length > 0, 'an empty error would read as success');
    assert.equal((await buildRow(ctx.pool, a.buildId)).provisioner_state?.toString(), 'previous');
    await waitFor(() => logs.messages.some((m) => JSON.parse(m).end_of_logs === true), 'end_of_logs on failure');
    logs.stop();

    const b = await runningBuild({ state: 'previous' });
    await failJob(ctx, b.worker, { job_id: b.jobId, error: 'boom', workspace_build: { state: new TextEncoder().encode('partial') } });
    assert.equal((await jobRow(ctx.pool, b.jobId)).error, 'boom');
    assert.equal((await buildRow(ctx.pool, b.buildId)).provisioner_state?.toString(), 'partial');
  });

  it('stores an import job\'s resources on the import job', async () => {
    const t = await insertEchoTemplate(ctx.pool, owner, {});
    const id = await insertBareJob(ctx.pool, owner, t.fileId, { provisioner: 'imp' });
    const worker = randomUUID();
    await acquireJob(ctx, { id: worker, provisioners: ['imp'], tags: ORG_TAGS });
    await completeJob(ctx, worker, { job_id: id, template_import: { start_resources: [resources[1] as ProvisionedResource] } });
    const res = await getResourcesByJobIDs(ctx.pool, [id]);
    assert.deepEqual(res.map((r) => [r.name, r.transition]), [['volume', 'start']]);
  });

  it('fails a job that cannot be handed out at acquire time, and resolves legacy parameters by scope', async () => {
    const client = new InProcessProvisionerdClient(ctx, { id: randomUUID(), name: 't', provisioners: ['echo'], tags: ORG_TAGS }, { pollMs: 50 });
    try {
      // A build whose template version has a value without a destination cannot be run.
      const t = await insertEchoTemplate(ctx.pool, owner, {});
      const ws = await insertWorkspace(ctx.pool, owner, t);
      const insertParam = (scope: string, scopeId: string, name: string, value: string, dest = 'environment_variable') =>
        ctx.pool.query(
          `INSERT INTO parameter_values (id, created_at, updated_at, scope, scope_id, name, source_scheme, source_value, destination_scheme)
           VALUES (gen_random_uuid(), now(), now(), $1, $2, $3, 'data', $4, $5)`,
          [scope, scopeId, name, value, dest],
        );
      await insertParam('template', t.templateId, 'region', 'us');
      await insertParam('template', t.templateId, 'size', 'small', 'provisioner_variable');
      await insertParam('workspace', ws, 'region', 'eu');
      const good = await insertBuild(ctx.pool, owner, t, ws);
      const ac = new AbortController();
      const job = await client.acquireJob(ac.signal);
      assert.equal(job?.job_id, good.jobId);
      assert.deepEqual(job?.workspace_build?.parameter_values, [
        { name: 'region', value: 'eu', destination_scheme: 'environment_variable' },
        { name: 'size', value: 'small', destination_scheme: 'provisioner_variable' },
      ]);
      assert.equal(job?.workspace_build?.metadata.workspace_transition, 'start');
      assert.equal(job?.workspace_build?.metadata.template_name.startsWith('tpl-'), true);
      await client.completeJob({ job_id: good.jobId, workspace_build: { state: new Uint8Array(0), resources: [] } });

      await insertParam('workspace', ws, 'broken', 'x', 'none');
      const bad = await insertBuild(ctx.pool, owner, t, ws);
      const logs = await listen(ctx, jobLogsChannel(bad.jobId));
      const next = client.acquireJob(ac.signal);
      await waitFor(async () => (await jobRow(ctx.pool, bad.jobId)).completed_at, 'the invalid job to be failed');
      const row = await jobRow(ctx.pool, bad.jobId);
      assert.match(row.error ?? '', /^request job was invalidated: parameter "broken" has destination scheme "none"/);
      await waitFor(() => logs.messages.some((m) => JSON.parse(m).end_of_logs === true), 'end_of_logs on acquire-time failure');
      logs.stop();
      ac.abort();
      assert.equal(await next, null, 'an aborted long-poll resolves empty');
    } finally {
      client.close();
    }
  });
});
