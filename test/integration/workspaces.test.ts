import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

/** Reads a Server-Sent-Events stream, collecting the `data` events' JSON. */
function watch(url: string, token: string): { events: Workspace[]; close(): void; ready: Promise<void> } {
  const events: Workspace[] = [];
  let req: http.ClientRequest;
  const ready = new Promise<void>((resolve, reject) => {
    req = http.get(url, { headers: { 'Coder-Session-Token': token } }, (res) => {
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /text\/event-stream/);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const lines = block.split('\n');
          if (lines[0] === 'event: data') events.push(JSON.parse(lines.slice(1).map((l) => l.replace(/^data: /, '')).join('\n')) as Workspace);
        }
      });
      resolve();
    });
    req.on('error', reject);
  });
  return { events, ready, close: () => req.destroy() };
}

describe('workspaces', () => {
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

  it('create: build #1 is a pending start; fields are filled; duplicate name 409; bad name 400; unknown template 400', async () => {
    const { template, version } = await createEchoTemplate(owner.client, org, {}, { defaultTtlMs: 3600_000 });
    const ws = await createWorkspace(member.client, org, template.id, 'my-ws');
    assert.equal(ws.name, 'my-ws');
    assert.equal(ws.owner_id, member.userId);
    assert.equal(ws.owner_name, member.username);
    assert.equal(ws.template_name, template.name);
    assert.equal(ws.ttl_ms, 3600_000);
    assert.equal(ws.outdated, false);
    assert.equal(ws.latest_build.build_number, 1);
    assert.equal(ws.latest_build.template_version_id, version.id);
    assert.ok(['pending', 'starting', 'running'].includes(ws.latest_build.status));
    await expectApiError(createWorkspace(member.client, org, template.id, 'my-ws'), 409);
    const bad = await expectApiError(createWorkspace(member.client, org, template.id, '-bad-'), 400, 'Validation failed.');
    assert.equal(bad.response.validations?.[0]?.field, 'name');
    await expectApiError(createWorkspace(member.client, org, randomUUID(), 'other'), 400);
    await expectApiError(member.client.createWorkspace(org, owner.userId, { template_id: template.id, name: 'for-owner' }), 403);
    const done = await waitForBuild(member.client, ws.latest_build.id);
    assert.equal(done.status, 'running');
    assert.ok(done.deadline, 'a start build gets a deadline from the ttl');
  });

  it('get, by owner and name, list with filters; members see only their own', async () => {
    const { template } = await createEchoTemplate(owner.client, org);
    const a = await createWorkspace(member.client, org, template.id, 'alpha');
    const b = await createWorkspace(owner.client, org, template.id, 'beta');
    assert.equal((await member.client.workspace(a.id)).id, a.id);
    await expectApiError(member.client.workspace(b.id), 404, 'Resource not found or you do not have access to this resource');
    assert.equal((await member.client.workspaceByOwnerAndName('me', 'alpha')).id, a.id);
    assert.equal((await owner.client.workspaceByOwnerAndName(member.username, 'alpha')).id, a.id);
    const mine = await member.client.workspaces();
    assert.ok(mine.workspaces.every((w) => w.owner_id === member.userId));
    assert.ok(mine.workspaces.some((w) => w.id === a.id));
    const all = await owner.client.workspaces({ q: `template:${template.name}` });
    assert.deepEqual(all.workspaces.map((w) => w.name).sort(), ['alpha', 'beta']);
    assert.equal(all.count, 2);
    const byOwner = await owner.client.workspaces({ q: `owner:${member.username} template:${template.name}` });
    assert.deepEqual(byOwner.workspaces.map((w) => w.id), [a.id]);
    const byName = await owner.client.workspaces({ q: `name:bet template:${template.name}` });
    assert.deepEqual(byName.workspaces.map((w) => w.id), [b.id]);
    await waitForBuild(owner.client, b.latest_build.id);
    await waitForBuild(owner.client, a.latest_build.id);
    const running = await owner.client.workspaces({ q: `status:running template:${template.name}` });
    assert.equal(running.count, 2);
    assert.equal((await owner.client.workspaces({ q: `status:stopped template:${template.name}` })).count, 0);
  });

  it('ttl: set and clear; below one minute 400', async () => {
    const { template } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(owner.client, org, template.id);
    await owner.client.updateWorkspaceTTL(ws.id, 2 * 3600_000);
    assert.equal((await owner.client.workspace(ws.id)).ttl_ms, 2 * 3600_000);
    await owner.client.updateWorkspaceTTL(ws.id, null);
    assert.equal((await owner.client.workspace(ws.id)).ttl_ms, undefined);
    await expectApiError(owner.client.updateWorkspaceTTL(ws.id, 1000), 400, 'Invalid Workspace Time to Shutdown.');
  });

  it('delete build: workspace answers 410 after, ?deleted=true shows it, list no longer has it, its builds stay readable', async () => {
    const { template } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const del = await owner.client.createWorkspaceBuild(ws.id, { transition: 'delete' });
    assert.equal(del.build_number, 2);
    await waitForBuild(owner.client, del.id, ['deleted']);
    const gone = await expectApiError(owner.client.workspace(ws.id), 410);
    assert.equal(gone.response.message, `Workspace "${ws.id}" was deleted, you can view this workspace by specifying '?deleted=true' and trying again.`);
    const shown = await owner.client.workspace(ws.id, { deleted: true });
    assert.equal(shown.deleted, true);
    assert.ok(!(await owner.client.workspaces({ q: `template:${template.name}` })).workspaces.some((w) => w.id === ws.id));
    assert.equal((await owner.client.workspaceBuild(del.id)).status, 'deleted');
    await expectApiError(owner.client.createWorkspaceBuild(ws.id, { transition: 'start' }), 409, 'Cannot start a deleted workspace!');
    // The name is free again.
    const again = await createWorkspace(owner.client, org, template.id, ws.name);
    assert.notEqual(again.id, ws.id);
  });

  it('watch: the SSE stream sends the workspace now and on each build change', async () => {
    const { template } = await createEchoTemplate(owner.client, org, { stop: { logs: [{ output: 'stopping' }], delay_ms: 50 } });
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const w = watch(`${srv.url}/api/v2/workspaces/${ws.id}/watch`, owner.client.token ?? '');
    await w.ready;
    await waitFor(() => w.events.length >= 1, 'the first event');
    assert.equal(w.events[0]?.latest_build.status, 'running');
    const stop = await owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    await waitFor(() => w.events.some((e) => e.latest_build.id === stop.id && e.latest_build.status === 'stopped'), 'an event showing the stop finished');
    w.close();
  });
});
