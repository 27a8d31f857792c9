import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { agentHealth } from '../../src/api/convert/workspaceResources.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createEchoVersion, createWorkspace, waitForBuild } from '../harness/templates.js';

import { assertEnvelope, NOT_FOUND, request } from './envelope.js';

/** Routes of current Coder's dashboard and CLI (and December 2022's `schema`), with the rules Coder applies. */
describe("routes of Coder's current clients", () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    member = await srv.createUser(owner.client);
  });
  after(async () => srv.close());

  const tok = (u: TestUser) => u.client.token as string;

  it('PATCH /workspaces/{id} renames (204), 409 on a taken name, 400 on a bad one; PUT …/autostart validates the schedule', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId);
    const a = await createWorkspace(member.client, owner.organizationId, template.id, 'alpha');
    await createWorkspace(member.client, owner.organizationId, template.id, 'beta');
    const path = `/api/v2/workspaces/${a.id}`;
    assert.equal((await request(srv.url, 'PATCH', path, { token: tok(member), json: { name: 'gamma' } })).status, 204);
    assert.equal((await member.client.workspace(a.id)).name, 'gamma');
    const taken = assertEnvelope(await request(srv.url, 'PATCH', path, { token: tok(member), json: { name: 'beta' } }), 409, 'Workspace "beta" already exists.');
    assert.equal(taken.validations?.[0]?.field, 'name');
    assertEnvelope(await request(srv.url, 'PATCH', path, { token: tok(member), json: { name: 'not ok' } }), 400, 'Validation failed.');

    const auto = `${path}/autostart`;
    assert.equal((await request(srv.url, 'PUT', auto, { token: tok(member), json: { schedule: 'CRON_TZ=Europe/Paris 30 9 * * 1-5' } })).status, 204);
    assert.equal((await member.client.workspace(a.id)).autostart_schedule, 'CRON_TZ=Europe/Paris 30 9 * * 1-5');
    const bad = assertEnvelope(await request(srv.url, 'PUT', auto, { token: tok(member), json: { schedule: '30 9 1 * *' } }), 400, 'Invalid autostart schedule.');
    assert.match(bad.validations?.[0]?.detail ?? '', /day-of-month and month/);
    assertEnvelope(await request(srv.url, 'PUT', auto, { token: tok(member), json: { schedule: 'CRON_TZ=Mars/Olympus 0 9 * * *' } }), 400, 'Invalid autostart schedule.');
    assert.equal((await request(srv.url, 'PUT', auto, { token: tok(member), json: {} })).status, 204);
    assert.equal((await member.client.workspace(a.id)).autostart_schedule, undefined);
    // Someone else's workspace is not there for a member.
    const other = await createWorkspace(owner.client, owner.organizationId, template.id, 'owners');
    assertEnvelope(await request(srv.url, 'PATCH', `/api/v2/workspaces/${other.id}`, { token: tok(member), json: { name: 'x' } }), 404, NOT_FOUND);
  });

  it('GET /workspaces/{id}?include_deleted=true finds a deleted workspace, as ?deleted=true does; logs?format=text; PUT …/state', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { logs: [{ output: 'hello' }], state: 'one' } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    const b1 = await waitForBuild(owner.client, ws.latest_build.id);
    const text = await request(srv.url, 'GET', `/api/v2/workspacebuilds/${b1.id}/logs?format=text`, { token: tok(owner) });
    assert.equal(text.status, 200);
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(text.text, /^\S+Z \[info\] Starting workspace: hello$/m);
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/workspacebuilds/${b1.id}/logs?format=xml`, { token: tok(owner) }), 400);

    const state = `/api/v2/workspacebuilds/${b1.id}/state`;
    assert.equal((await request(srv.url, 'PUT', state, { token: tok(owner), json: { state: Buffer.from('two').toString('base64') } })).status, 204);
    assert.equal((await request(srv.url, 'GET', state, { token: tok(owner) })).text, 'two');
    assertEnvelope(await request(srv.url, 'PUT', state, { token: tok(owner), json: { state: 'not base64!' } }), 400);

    const del = await owner.client.createWorkspaceBuild(ws.id, { transition: 'delete' });
    await waitForBuild(owner.client, del.id, ['deleted']);
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/workspaces/${ws.id}`, { token: tok(owner) }), 410);
    for (const q of ['include_deleted=true', 'deleted=true']) {
      const res = await request(srv.url, 'GET', `/api/v2/workspaces/${ws.id}?${q}`, { token: tok(owner) });
      assert.equal(res.status, 200, q);
      assert.equal((res.body as { deleted: boolean }).deleted, true);
    }
    const badFlag = assertEnvelope(await request(srv.url, 'GET', `/api/v2/workspaces/${ws.id}?include_deleted=maybe`, { token: tok(owner) }), 400);
    assert.equal(badFlag.validations?.[0]?.field, 'include_deleted');
  });

  it('template versions by name and previous; ACL is the site owner\'s; schema waits for the import (412); daus validate tz_offset', async () => {
    const { template, version: v1 } = await createEchoTemplate(owner.client, owner.organizationId);
    const v2 = await createEchoVersion(owner.client, owner.organizationId, {}, { templateId: template.id });
    const byName = await request(srv.url, 'GET', `/api/v2/templates/${template.id}/versions/${v2.name}`, { token: tok(member) });
    assert.equal((byName.body as { id: string }).id, v2.id);
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/templates/${template.id}/versions/nope`, { token: tok(member) }), 404, 'No template version found by name "nope".');
    const prev = await request(srv.url, 'GET', `/api/v2/templateversions/${v2.id}/previous`, { token: tok(member) });
    assert.equal((prev.body as { id: string }).id, v1.id);
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/templateversions/${v1.id}/previous`, { token: tok(member) }), 404);

    assert.equal((await request(srv.url, 'GET', `/api/v2/templates/${template.id}/acl`, { token: tok(owner) })).status, 200);
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/templates/${template.id}/acl`, { token: tok(member) }), 404, NOT_FOUND);
    const daus = await request(srv.url, 'GET', `/api/v2/templates/${template.id}/daus?tz_offset=2`, { token: tok(member) });
    assert.deepEqual(daus.body, { entries: [], tz_hour_offset: 2 });
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/templates/${template.id}/daus?tz_offset=x`, { token: tok(member) }), 400);

    const pending = await createEchoVersion(owner.client, owner.organizationId, { import: { hang: true } }, { templateId: template.id, wait: false });
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/templateversions/${pending.id}/schema`, { token: tok(owner) }), 412, "Template version job hasn't completed!");
    await owner.client.cancelTemplateVersion(pending.id);

    const all = await request(srv.url, 'GET', '/api/v2/templates', { token: tok(member) });
    assert.ok((all.body as { id: string }[]).some((t) => t.id === template.id));
    const examples = (await request(srv.url, 'GET', '/api/v2/templates/examples', { token: tok(member) })).body as { id: string; markdown: string }[];
    assert.ok(examples.some((e) => e.id === 'local-dev' && e.markdown.includes('local')), JSON.stringify(examples.map((e) => e.id)));
  });

  it("agent health follows Coder's rules, first match wins", () => {
    assert.deepEqual(agentHealth('connected', 'ready'), { healthy: true });
    assert.deepEqual(agentHealth('connected', 'start_timeout'), { healthy: true });
    assert.deepEqual(agentHealth('connecting', 'off'), { healthy: false, reason: 'agent is not running' });
    assert.deepEqual(agentHealth('connecting', 'created'), { healthy: false, reason: 'agent has not yet connected' });
    assert.deepEqual(agentHealth('timeout', 'created'), { healthy: false, reason: 'agent is taking too long to connect' });
    assert.deepEqual(agentHealth('disconnected', 'ready'), { healthy: false, reason: 'agent has lost connection' });
    assert.deepEqual(agentHealth('connected', 'start_error'), { healthy: false, reason: 'agent startup script exited with an error' });
    assert.deepEqual(agentHealth('connected', 'shutting_down'), { healthy: false, reason: 'agent is shutting down' });
  });
});
