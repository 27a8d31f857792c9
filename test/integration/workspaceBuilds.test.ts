import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createEchoVersion, createWorkspace, waitForBuild } from '../harness/templates.js';

// Ports of Coder's coderd/workspacebuilds_test.go and the build parts of workspaces_test.go (reference §11), adjusted
// to kiln's deviations (docs/compatibility.md).
describe('workspace builds', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  let org: string;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 2 });
    owner = await srv.createFirstUser();
    org = owner.organizationId;
    member = await srv.createUser(owner.client);
  });
  after(async () => srv.close());

  it('GET /workspacebuilds/{id} returns the first build of a new workspace', async () => {
    const { template } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(owner.client, org, template.id);
    assert.equal(ws.latest_build.build_number, 1);
    assert.equal(ws.latest_build.transition, 'start');
    assert.equal(ws.latest_build.reason, 'initiator');
    assert.equal(ws.latest_build.deadline, null);
    const b = await owner.client.workspaceBuild(ws.latest_build.id);
    assert.equal(b.id, ws.latest_build.id);
    assert.equal(b.workspace_owner_name, owner.username);
    const done = await waitForBuild(owner.client, b.id);
    assert.equal(done.status, 'running');
    assert.equal(done.job.status, 'succeeded');
    assert.ok(done.job.started_at && done.job.completed_at && done.job.worker_id);
  });

  it('job ids are version 7 UUIDs stamped with the job\'s creation: a later job\'s id sorts after an earlier one\'s', async () => {
    // Why: the log index (job_id, id) then takes a running job's lines at its right edge (src/lib/timeOrderedUuid.ts).
    const { template, version } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const next = await owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    const jobs = [version.job, ws.latest_build.job, next.job];
    for (const j of jobs) {
      assert.match(j.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(parseInt(j.id.replace(/-/g, '').slice(0, 12), 16), Date.parse(j.created_at));
    }
    assert.ok(jobs[0]!.id < jobs[1]!.id && jobs[1]!.id < jobs[2]!.id, jobs.map((j) => j.id).join(' '));
    await waitForBuild(owner.client, next.id);
  });

  it('by build number: success, non-integer 400, unknown workspace 404, unknown build 404', async () => {
    const { template } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(owner.client, org, template.id);
    const b = await owner.client.workspaceBuildByNumber(owner.username, ws.name, 1);
    assert.equal(b.id, ws.latest_build.id);
    await expectApiError(owner.client.workspaceBuildByNumber(owner.username, ws.name, 'buildNumber'), 400, 'Failed to parse build number as integer.');
    await expectApiError(owner.client.workspaceBuildByNumber(owner.username, ws.name, '99999999999'), 400, 'Failed to parse build number as integer.');
    await expectApiError(owner.client.workspaceBuildByNumber(owner.username, 'no-such-ws', 1), 404, /Resource not found/);
    await expectApiError(owner.client.workspaceBuildByNumber(owner.username, ws.name, 200), 404, `Workspace "${ws.name}" Build 200 does not exist.`);
  });

  it('list: single build, since filters, empty array not null', async () => {
    const { template } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(owner.client, org, template.id);
    const list = await owner.client.workspaceBuilds(ws.id);
    assert.equal(list.length, 1);
    assert.equal(list[0]?.build_number, 1);
    assert.equal(list[0]?.initiator_name, owner.username);
    assert.deepEqual(await owner.client.workspaceBuilds(ws.id, { since: new Date(Date.now() + 60_000).toISOString() }), []);
    assert.equal((await owner.client.workspaceBuilds(ws.id, { since: new Date(Date.now() - 3600_000).toISOString() })).length, 1);
    await expectApiError(owner.client.workspaceBuilds(ws.id, { since: 'yesterday' }), 400, 'bad `since` format, must be RFC3339');
  });

  it('list: pagination with limit/offset, unknown after_id 400, bad values 400', async () => {
    const { template } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(owner.client, org, template.id);
    let last = await waitForBuild(owner.client, ws.latest_build.id);
    for (let i = 0; i < 4; i++) {
      const b = await owner.client.createWorkspaceBuild(ws.id, { transition: i % 2 === 0 ? 'stop' : 'start' });
      assert.equal(b.build_number, last.build_number + 1);
      last = await waitForBuild(owner.client, b.id);
    }
    const page1 = await owner.client.workspaceBuilds(ws.id, { limit: 3, offset: 0 });
    assert.deepEqual(page1.map((b) => b.build_number), [5, 4, 3]);
    const page2 = await owner.client.workspaceBuilds(ws.id, { limit: 3, offset: 3 });
    assert.deepEqual(page2.map((b) => b.build_number), [2, 1]);
    const e = await expectApiError(owner.client.workspaceBuilds(ws.id, { after_id: randomUUID() }), 400);
    assert.match(e.response.message, /does not exist/);
    const bad = await expectApiError(owner.client.http.json('GET', `/api/v2/workspaces/${ws.id}/builds`, { query: { limit: -1, offset: 'x' } }), 400, 'Query parameters have invalid values.');
    assert.deepEqual(bad.response.validations?.map((v) => v.field).sort(), ['limit', 'offset']);
    const after1 = await owner.client.workspaceBuilds(ws.id, { after_id: page2[1]?.id });
    assert.deepEqual(after1.map((b) => b.build_number), [5, 4, 3, 2]);
  });

  it('a deleted initiator keeps their username on the build', async () => {
    const admin = await srv.createUser(owner.client, ['owner']);
    const { template } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(admin.client, org, template.id, undefined, member.userId);
    await srv.server.api.ctx.pool.query('UPDATE users SET deleted = true WHERE id = $1', [admin.userId]);
    const list = await owner.client.workspaceBuilds(ws.id);
    assert.equal(list[0]?.initiator_name, admin.username);
  });

  it('state: owner may pass state on delete; a member may not (403); state round-trips', async () => {
    const { template } = await createEchoTemplate(owner.client, org, { start: { state: 'some kinda state' } }, { allowUserCancel: true });
    const ws = await createWorkspace(owner.client, org, template.id);
    const first = await waitForBuild(owner.client, ws.latest_build.id);
    assert.equal(Buffer.from(await owner.client.workspaceBuildState(first.id)).toString(), 'some kinda state');
    const del = await owner.client.createWorkspaceBuild(ws.id, { transition: 'delete', state: Buffer.from(' ').toString('base64') });
    assert.equal((await waitForBuild(owner.client, del.id)).status, 'deleted');
    const mine = await createWorkspace(member.client, org, template.id);
    await waitForBuild(member.client, mine.latest_build.id);
    await expectApiError(member.client.createWorkspaceBuild(mine.id, { transition: 'start', state: Buffer.from('x').toString('base64') }), 403, 'Only template managers may provide custom state');
  });

  it('with state: the new build starts from exactly the given bytes', async () => {
    // The provisioner reports what it started from (echo_state), so the check does not race the build's completion,
    // which replaces the stored state with the provisioner's new one.
    const { template } = await createEchoTemplate(owner.client, org, { start: { echo_state: true, state: 'after' } });
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const b = await owner.client.createWorkspaceBuild(ws.id, { transition: 'start', state: Buffer.from('something').toString('base64') });
    const done = await waitForBuild(owner.client, b.id);
    assert.equal(done.status, 'running');
    const logs = (await owner.client.workspaceBuildLogs(b.id)).map((l) => l.output);
    assert.ok(logs.includes('state: something'), logs.join('\n'));
    assert.equal(Buffer.from(await owner.client.workspaceBuildState(b.id)).toString(), 'after');
  });

  it('state is carried from build to build and echoed to the provisioner', async () => {
    const { template } = await createEchoTemplate(owner.client, org, { start: { echo_state: true, state: 'v1' }, stop: { echo_state: true, state: 'v2' } });
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const stop = await owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    await waitForBuild(owner.client, stop.id);
    const logs = await owner.client.workspaceBuildLogs(stop.id);
    assert.ok(logs.some((l) => l.output === 'state: v1'), 'the stop build saw the start build state');
    assert.equal(Buffer.from(await owner.client.workspaceBuildState(stop.id)).toString(), 'v2');
  });

  it('orphan: with state 400, not on delete 400, delete+orphan succeeds without the provisioner and the workspace answers 410', async () => {
    const { template } = await createEchoTemplate(owner.client, org, { delete: { error: 'the delete script must not run' } });
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    await expectApiError(owner.client.createWorkspaceBuild(ws.id, { transition: 'delete', orphan: true, state: 'eA==' }), 400, 'ProvisionerState cannot be set alongside Orphan since state intent is unclear.');
    await expectApiError(owner.client.createWorkspaceBuild(ws.id, { transition: 'start', orphan: true }), 400, 'Orphan is only permitted when deleting a workspace.');
    const b = await owner.client.createWorkspaceBuild(ws.id, { transition: 'delete', orphan: true });
    const done = await waitForBuild(owner.client, b.id);
    assert.equal(done.status, 'deleted');
    const logs = await owner.client.workspaceBuildLogs(b.id);
    assert.ok(logs.some((l) => l.log_source === 'provisioner_daemon' && l.log_level === 'warn'), 'a warn line says resources were left in place');
    assert.ok(!logs.some((l) => l.log_source === 'provisioner'), 'the provisioner never ran');
    await expectApiError(owner.client.workspace(ws.id), 410);
    assert.equal((await owner.client.workspace(ws.id, { deleted: true })).latest_build.status, 'deleted');
    await expectApiError(owner.client.http.json('GET', `/api/v2/workspaces/${ws.id}`, { query: { deleted: 'maybe' } }), 400);
  });

  it('resources: latest_build lists them in provisioner order; GET …/resources sorts by name', async () => {
    const { template } = await createEchoTemplate(owner.client, org, {
      start: { resources: [{ name: 'some', type: 'example', agents: [{ name: 'dev' }] }, { name: 'another', type: 'example' }] },
    });
    const ws = await createWorkspace(owner.client, org, template.id);
    // A build that has not completed (one that hangs until canceled, so the check cannot race its end) has none yet.
    const hanging = await createEchoTemplate(owner.client, org, { start: { hang: true } });
    const unfinished = await createWorkspace(owner.client, org, hanging.template.id);
    await expectApiError(owner.client.workspaceBuildResources(unfinished.latest_build.id), 400, "Job hasn't completed!");
    await owner.client.cancelWorkspaceBuild(unfinished.latest_build.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    await waitForBuild(owner.client, unfinished.latest_build.id);
    const fresh = await owner.client.workspace(ws.id);
    assert.equal(fresh.latest_build.resources.length, 2);
    assert.equal(fresh.latest_build.resources[0]?.name, 'some');
    assert.equal(fresh.latest_build.resources[1]?.type, 'example');
    assert.equal(fresh.latest_build.resources[0]?.agents?.length, 1);
    assert.equal(fresh.latest_build.resources[1]?.agents, undefined);
    const sorted = await owner.client.workspaceBuildResources(ws.latest_build.id);
    assert.deepEqual(sorted.map((r) => r.name), ['another', 'some']);
  });

  it('concurrent POSTs on one workspace: one build is created, every other answers 409, and no job is left without its build', async () => {
    // The stop hangs until canceled: the winner stays active, so every other create must lose (none may come after it).
    const { template } = await createEchoTemplate(owner.client, org, { stop: { hang: true } });
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const tries = await Promise.allSettled(Array.from({ length: 12 }, () => owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' })));
    const created = tries.filter((t) => t.status === 'fulfilled');
    assert.equal(created.length, 1);
    for (const t of tries) {
      if (t.status === 'rejected') await expectApiError(Promise.reject(t.reason), 409, 'A workspace build is already active.');
    }
    const builds = await owner.client.workspaceBuilds(ws.id);
    assert.deepEqual(builds.map((b) => b.build_number), [2, 1]);
    const stray = await srv.server.api.ctx.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM provisioner_jobs j WHERE j.type = 'workspace_build' AND NOT EXISTS (SELECT 1 FROM workspace_builds b WHERE b.job_id = j.id)`,
    );
    assert.equal(stray.rows[0]?.n, 0);
    const winner = created[0]?.status === 'fulfilled' ? created[0].value : undefined;
    assert.ok(winner);
    // Canceled, so its daemon is free for the tests after this one.
    await owner.client.cancelWorkspaceBuild(winner.id);
    await waitForBuild(owner.client, winner.id);
  });

  it('POST /builds errors: create transition 400, unknown version 400, version of another template 400, failed import 400', async () => {
    const { template } = await createEchoTemplate(owner.client, org);
    const { template: other, version: otherVersion } = await createEchoTemplate(owner.client, org);
    void other;
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const v = await expectApiError(owner.client.http.json('POST', `/api/v2/workspaces/${ws.id}/builds`, { body: { transition: 'create' } }), 400, 'Validation failed.');
    assert.equal(v.response.validations?.[0]?.field, 'transition');
    await expectApiError(owner.client.createWorkspaceBuild(ws.id, { transition: 'start', template_version_id: randomUUID() }), 400, 'Template version not found.');
    await expectApiError(owner.client.createWorkspaceBuild(ws.id, { transition: 'start', template_version_id: otherVersion.id }), 400);
    const failed = await createEchoVersion(owner.client, org, { import: { error: 'import broke' } }, { templateId: template.id });
    assert.equal(failed.job.status, 'failed');
    const e = await expectApiError(owner.client.createWorkspaceBuild(ws.id, { transition: 'start', template_version_id: failed.id }), 400);
    assert.match(e.response.message, /has failed to import: "import broke"/);
    await expectApiError(owner.client.http.json('POST', `/api/v2/workspaces/${ws.id}/builds`, { body: '{not json' as unknown }), 400);
  });

  it('permissions: another member gets 404 on every build endpoint', async () => {
    const other = await srv.createUser(owner.client);
    const { template } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(member.client, org, template.id);
    const id = ws.latest_build.id;
    await waitForBuild(member.client, id);
    const calls = [
      () => other.client.workspaceBuild(id),
      () => other.client.workspaceBuildLogs(id),
      () => other.client.workspaceBuildResources(id),
      () => other.client.workspaceBuildState(id),
      () => other.client.workspaceBuilds(ws.id),
      () => other.client.workspace(ws.id),
      () => other.client.createWorkspaceBuild(ws.id, { transition: 'stop' }),
      () => other.client.cancelWorkspaceBuild(id),
    ];
    for (const call of calls) await expectApiError(call(), 404, 'Resource not found or you do not have access to this resource');
    // The workspace owner may read builds but not the state (deviation 10); a template admin may.
    await expectApiError(member.client.workspaceBuildState(id), 403);
    const tadmin = await srv.createUser(owner.client, ['template-admin']);
    await tadmin.client.workspaceBuildState(id);
    await expectApiError(tadmin.client.createWorkspaceBuild(ws.id, { transition: 'stop' }), 404);
  });

  it('unauthenticated requests answer 401 and bad UUIDs 400', async () => {
    await expectApiError(srv.client.workspaceBuild(randomUUID()), 401);
    await expectApiError(owner.client.workspaceBuild('not-a-uuid'), 400, 'Invalid UUID "not-a-uuid".');
    await expectApiError(owner.client.workspaceBuild(randomUUID()), 404);
  });
});
