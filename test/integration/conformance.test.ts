import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { WebSocket } from 'ws';

import { conformance, conformanceAllEras, ERAS } from '../harness/coderTypes.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, waitForBuild } from '../harness/templates.js';

import { request, type RawResponse } from './envelope.js';

const AGENT_RESOURCE = {
  name: 'dev',
  type: 'docker_container',
  agents: [
    {
      name: 'main',
      startup_script: 'echo hi',
      apps: [
        { slug: 'term', display_name: 'Terminal', command: 'bash' },
        { slug: 'web', display_name: 'Web', url: 'http://localhost:8080', healthcheck: { url: 'http://localhost:8080/healthz', interval: 5, threshold: 3 } },
      ],
    },
  ],
  metadata: [{ key: 'cpu', value: '2' }],
};

/**
 * Drives every endpoint of workspaces, builds, templates and jobs and checks each JSON object kiln returns against
 * the facts of Coder's December-2022 and current wire types (test/fixtures/coder-types.json).
 */
describe("conformance with Coder's wire types (December 2022 and current)", () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let token: string;
  const checked = new Map<string, number>();

  const get = async (path: string, status = 200): Promise<RawResponse> => {
    const res = await request(srv.url, 'GET', path, { token });
    assert.equal(res.status, status, `GET ${path}: ${res.text}`);
    return res;
  };
  const expectType = (type: string, value: unknown, where: string) => {
    assert.deepEqual(conformanceAllEras(type, value), [], `${where} as ${type}`);
    checked.set(type, (checked.get(type) ?? 0) + 1);
  };
  const expectList = (type: string, value: unknown, where: string) => {
    assert.ok(Array.isArray(value), `${where} is a list`);
    for (const [i, item] of (value as unknown[]).entries()) expectType(type, item, `${where}[${i}]`);
  };

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    token = owner.client.token as string;
  });
  after(async () => srv.close());

  it('the checker itself catches a missing field, a wrong kind, an unknown enum value and a bad nested object', () => {
    const app = { id: 'x', slug: 's', display_name: 'd', subdomain: false, external: false, sharing_level: 'owner', healthcheck: { url: '', interval: 0, threshold: 0 }, health: 'healthy' };
    assert.deepEqual(conformance('2022-12', 'WorkspaceApp', app), []);
    const problems = conformance('current', 'WorkspaceApp', { ...app, health: 'great', healthcheck: { url: 1, interval: 0, threshold: 0 } });
    assert.ok(problems.includes('WorkspaceApp.url: missing'), problems.join('\n'));
    assert.ok(problems.includes('WorkspaceApp.hidden: missing'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('WorkspaceApp.health: "great" is not one of')), problems.join('\n'));
    assert.ok(problems.includes('WorkspaceApp.healthcheck.url: expected string, got number'), problems.join('\n'));
  });

  it('every object of every workspace, build, template and job endpoint conforms to both eras', async () => {
    const echo = { import: { resources: [AGENT_RESOURCE] }, start: { logs: [{ output: 'starting' }], resources: [AGENT_RESOURCE] }, stop: {} };
    const { template, version } = await createEchoTemplate(owner.client, owner.organizationId, echo);

    // Current Coder's create route.
    const created = await request(srv.url, 'POST', '/api/v2/users/me/workspaces', { token, json: { template_id: template.id, name: 'conf' } });
    assert.equal(created.status, 201, created.text);
    expectType('Workspace', created.body, 'POST /users/me/workspaces');
    const ws = created.body as { id: string; name: string; latest_build: { id: string; job: { status: string; queue_position: number } } };
    if (ws.latest_build.job.status === 'pending') assert.ok(ws.latest_build.job.queue_position >= 1, 'a pending job is queued');
    const build = await waitForBuild(owner.client, ws.latest_build.id, ['running']);

    expectType('Workspace', (await get(`/api/v2/workspaces/${ws.id}`)).body, 'GET /workspaces/{id}');
    expectType('WorkspacesResponse', (await get('/api/v2/workspaces')).body, 'GET /workspaces');
    expectType('Workspace', (await get(`/api/v2/users/me/workspace/${ws.name}`)).body, 'GET /users/me/workspace/{name}');
    const wire = (await get(`/api/v2/workspacebuilds/${build.id}`)).body as { resources: { agents?: { id: string; apps: { slug: string; url: string }[] }[] }[] };
    expectType('WorkspaceBuild', wire, 'GET /workspacebuilds/{id}');
    expectList('WorkspaceBuild', (await get(`/api/v2/workspaces/${ws.id}/builds`)).body, 'GET /workspaces/{id}/builds');
    expectType('WorkspaceBuild', (await get(`/api/v2/users/me/workspace/${ws.name}/builds/1`)).body, 'GET …/builds/{number}');
    expectList('WorkspaceResource', (await get(`/api/v2/workspacebuilds/${build.id}/resources`)).body, 'GET /workspacebuilds/{id}/resources');
    expectList('ProvisionerJobLog', (await get(`/api/v2/workspacebuilds/${build.id}/logs`)).body, 'GET /workspacebuilds/{id}/logs');
    expectType('WorkspaceBuildTimings', (await get(`/api/v2/workspacebuilds/${build.id}/timings`)).body, 'GET /workspacebuilds/{id}/timings');

    const agent = wire.resources[0]?.agents?.[0];
    assert.ok(agent, 'the build has an agent');
    // A command app's url is "" (current Coder), not absent.
    assert.equal(agent.apps.find((a) => a.slug === 'term')?.url, '');
    const agentWire = (await get(`/api/v2/workspaceagents/${agent.id}`)).body;
    expectType('WorkspaceAgent', agentWire, 'GET /workspaceagents/{id}');
    const startupLogs = (await get(`/api/v2/workspaceagents/${agent.id}/startup-logs`)).body as unknown[];
    for (const l of startupLogs) assert.deepEqual(conformance('current', 'WorkspaceAgentLog', l), []);

    expectType('Template', (await get(`/api/v2/templates/${template.id}`)).body, 'GET /templates/{id}');
    expectList('Template', (await get(`/api/v2/organizations/${owner.organizationId}/templates`)).body, 'GET /organizations/{org}/templates');
    expectList('Template', (await get('/api/v2/templates')).body, 'GET /templates');
    expectType('TemplateVersion', (await get(`/api/v2/templateversions/${version.id}`)).body, 'GET /templateversions/{id}');
    expectList('TemplateVersion', (await get(`/api/v2/templates/${template.id}/versions`)).body, 'GET /templates/{id}/versions');
    expectType('TemplateVersion', (await get(`/api/v2/templates/${template.id}/versions/${version.name}`)).body, 'GET /templates/{id}/versions/{name}');
    expectList('WorkspaceResource', (await get(`/api/v2/templateversions/${version.id}/resources`)).body, 'GET /templateversions/{id}/resources');
    expectList('ProvisionerJobLog', (await get(`/api/v2/templateversions/${version.id}/logs`)).body, 'GET /templateversions/{id}/logs');
    expectList('TemplateExample', (await get('/api/v2/templates/examples')).body, 'GET /templates/examples');
    expectType('DAUsResponse', (await get(`/api/v2/templates/${template.id}/daus`)).body, 'GET /templates/{id}/daus');
    expectType('TemplateACL', (await get(`/api/v2/templates/${template.id}/acl`)).body, 'GET /templates/{id}/acl');
    expectList('Preset', (await get(`/api/v2/templateversions/${version.id}/presets`)).body, 'GET /templateversions/{id}/presets');
    expectList('TemplateVersionExternalAuth', (await get(`/api/v2/templateversions/${version.id}/external-auth`)).body, 'GET …/external-auth');
    expectList('ParameterSchema', (await get(`/api/v2/templateversions/${version.id}/schema`)).body, 'GET /templateversions/{id}/schema');

    // A new build's 201, and the error envelope.
    const stop = await request(srv.url, 'POST', `/api/v2/workspaces/${ws.id}/builds`, { token, json: { transition: 'stop' } });
    assert.equal(stop.status, 201, stop.text);
    expectType('WorkspaceBuild', stop.body, 'POST /workspaces/{id}/builds');
    const stopJob = (stop.body as { job: { status: string; queue_position: number } }).job;
    if (stopJob.status === 'pending') assert.ok(stopJob.queue_position >= 1, 'a pending job is queued');
    expectType('Response', (await get(`/api/v2/workspaces/00000000-0000-0000-0000-000000000000`, 404)).body, 'a 404');

    // The WebSocket watch sends Coder's ServerSentEvent objects.
    const frame = await new Promise<unknown>((resolve, reject) => {
      const sock = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/v2/workspaces/${ws.id}/watch-ws`, { headers: { 'Coder-Session-Token': token } });
      sock.once('message', (data: Buffer) => {
        resolve(JSON.parse(data.toString('utf8')));
        sock.close();
      });
      sock.once('error', reject);
    });
    assert.deepEqual(conformance('current', 'ServerSentEvent', frame), []);
    assert.equal((frame as { type: string }).type, 'data');
    expectType('Workspace', (frame as { data: unknown }).data, 'watch-ws data');

    for (const type of ['Workspace', 'WorkspaceBuild', 'WorkspaceAgent', 'Template', 'TemplateVersion', 'ProvisionerJobLog']) {
      assert.ok((checked.get(type) ?? 0) > 0, `${type} was checked`);
    }
    assert.equal(ERAS.length, 2);
  });
});
