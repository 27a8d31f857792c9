import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

const HANG = { start: { logs: [{ output: 'working' }], hang: true } };

describe('build cancel and the queue (one busy daemon)', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  let org: string;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    org = owner.organizationId;
    member = await srv.createUser(owner.client);
  });
  after(async () => srv.close());

  it('a running build: cancel → canceling at once, then failed with error "canceled"; again → 400', async () => {
    const { template } = await createEchoTemplate(owner.client, org, HANG, { allowUserCancel: true });
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id, ['starting']);
    await expectApiError(owner.client.cancelWorkspaceBuild(ws.latest_build.id, { expect_status: 'pending' }), 412, 'Job is not in the expected state.');
    await expectApiError(owner.client.http.json('PATCH', `/api/v2/workspacebuilds/${ws.latest_build.id}/cancel`, { query: { expect_status: 'done' } }), 400, `Invalid expect_status "done". Only 'running' or 'pending' are allowed.`);
    const res = await owner.client.cancelWorkspaceBuild(ws.latest_build.id, { expect_status: 'running' });
    assert.equal(res.message, 'Job has been marked as canceled...');
    const b = await owner.client.workspaceBuild(ws.latest_build.id);
    assert.ok(b.status === 'canceling' || b.status === 'failed', b.status);
    if (b.status === 'canceling') assert.equal(b.job.error, undefined);
    await expectApiError(owner.client.cancelWorkspaceBuild(ws.latest_build.id), 400);
    const done = await waitForBuild(owner.client, ws.latest_build.id, ['failed'], 5_000);
    assert.equal(done.job.error, 'canceled');
    await expectApiError(owner.client.cancelWorkspaceBuild(ws.latest_build.id), 400, 'Job has already completed!');
  });

  it('a member may not cancel when the template disallows it (403)', async () => {
    const { template } = await createEchoTemplate(owner.client, org, HANG);
    assert.equal(template.allow_user_cancel_workspace_jobs, false);
    const ws = await createWorkspace(member.client, org, template.id);
    await waitForBuild(member.client, ws.latest_build.id, ['starting']);
    await expectApiError(member.client.cancelWorkspaceBuild(ws.latest_build.id), 403, 'User is not allowed to cancel workspace builds. Owner role is required.');
    // A site owner may; it frees the daemon for the next test.
    await owner.client.cancelWorkspaceBuild(ws.latest_build.id);
    await waitForBuild(owner.client, ws.latest_build.id, ['failed']);
  });

  it('with the only daemon busy, another build stays pending; canceling it makes it canceled at once and closes its followers', async () => {
    const { template } = await createEchoTemplate(owner.client, org, HANG, { allowUserCancel: true });
    const busy = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, busy.latest_build.id, ['starting']);
    const waiting = await createWorkspace(owner.client, org, template.id);
    const pending = await owner.client.workspaceBuild(waiting.latest_build.id);
    assert.equal(pending.status, 'pending');
    assert.equal(pending.job.queue_position, 1);
    const follow = owner.client.followWorkspaceBuildLogs(pending.id);
    const lines: number[] = [];
    const reading = (async () => {
      for await (const l of follow) lines.push(l.id);
    })();
    // A member's cancel of a pending job is allowed with expect_status=pending even when the template forbids cancels.
    await owner.client.cancelWorkspaceBuild(pending.id, { expect_status: 'pending' });
    const after = await owner.client.workspaceBuild(pending.id);
    assert.equal(after.status, 'canceled');
    assert.equal(after.job.status, 'canceled');
    const end = await follow.end;
    assert.equal(end.code, 1000);
    await reading;
    assert.deepEqual(lines, []);
    // A new build of that workspace is possible at once.
    const next = await owner.client.createWorkspaceBuild(waiting.id, { transition: 'stop' });
    assert.equal(next.build_number, 2);
    await owner.client.cancelWorkspaceBuild(next.id);
    await owner.client.cancelWorkspaceBuild(busy.latest_build.id);
    await waitForBuild(owner.client, busy.latest_build.id, ['failed']);
  });

  it('20 concurrent POST /builds on one idle workspace: exactly one 201, the rest 409', async () => {
    // The stop build hangs, so it is still active when the last of the 20 requests arrives.
    const { template } = await createEchoTemplate(owner.client, org, { stop: { logs: [{ output: 'stopping' }], hang: true } }, { allowUserCancel: true });
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const statuses = results.map((r) => (r.status === 'rejected' ? (r.reason as { status?: number }).status : 201));
    assert.equal(ok.length, 1, `statuses: ${statuses.join(',')}`);
    assert.deepEqual(statuses.filter((s) => s !== 201), Array(19).fill(409));
    const latest = await owner.client.workspace(ws.id);
    assert.equal(latest.latest_build.build_number, 2);
    await owner.client.cancelWorkspaceBuild(latest.latest_build.id);
    await waitFor(async () => (await owner.client.workspace(ws.id)).latest_build.status === 'failed', 'the canceled stop build');
  });
});
