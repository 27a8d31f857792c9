import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

import { request } from './envelope.js';

const app = (slug: string) => ({ slug, display_name: slug, url: `http://localhost:8080/${slug}`, healthcheck: { url: 'http://localhost:8080/healthz', interval: 5, threshold: 3 } });
const resource = (i: number) => ({
  name: `dev-${i}`,
  type: 'docker_container',
  metadata: [{ key: 'cpu', value: '2' }, { key: 'mem', value: '4G' }],
  agents: [{ name: `main-${i}`, architecture: 'amd64', operating_system: 'linux', apps: [app(`code-${i}`), app(`term-${i}`)] }],
});
const RICH = { start: { resources: [resource(2), resource(1)] } };

/** The statements the server counted for one route so far (its own per-request counter, as a metric). */
async function statements(srv: TestServer, method: string, route: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const read = (suffix: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`kiln_http_request_sql_statements_${suffix}{method="${method}",route="${route}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  return { sum: read('sum'), count: read('count') };
}

describe('reads in one statement', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let ws: Workspace;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, RICH);
    ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
  });
  after(async () => srv.close());

  /** Statements of one GET, after one warm-up GET (which may read the API key). */
  const cost = async (path: string, route: string) => {
    const token = owner.client.token as string;
    assert.equal((await request(srv.url, 'GET', path, { token })).status, 200);
    const before = await statements(srv, 'GET', route);
    const res = await request(srv.url, 'GET', path, { token });
    assert.equal(res.status, 200, res.text);
    const after = await statements(srv, 'GET', route);
    assert.equal(after.count - before.count, 1);
    return { n: after.sum - before.sum, body: res.body };
  };

  it('GET /workspacebuilds/{id} is one statement (none once a finished build was read), and carries resources, agents, apps and metadata in provisioner order', async () => {
    const path = `/api/v2/workspacebuilds/${ws.latest_build.id}`;
    const { n, body } = await cost(path, '/api/v2/workspacebuilds/:workspacebuild');
    // Waiting for the build read it already, finished: it may be served from memory (buildViewCache.test.ts).
    assert.ok(n <= 1, `${n} statements`);
    // Then from memory (a notification of an earlier write may still empty it once: waited for, not slept on).
    await waitFor(async () => (await cost(path, '/api/v2/workspacebuilds/:workspacebuild')).n === 0, 'a read served from memory');
    const b = body as Workspace['latest_build'];
    assert.equal(b.status, 'running');
    assert.deepEqual(b.resources.map((r) => r.name), ['dev-2', 'dev-1']);
    assert.deepEqual(b.resources.map((r) => r.metadata?.map((m) => m.key)), [['cpu', 'mem'], ['cpu', 'mem']]);
    assert.deepEqual(b.resources.map((r) => r.agents?.map((a) => a.apps.map((p) => p.slug))), [[['code-2', 'term-2']], [['code-1', 'term-1']]]);
    assert.equal(b.workspace_owner_name, owner.username);
    assert.equal(b.initiator_name, owner.username);
    assert.ok(b.template_version_name);
  });

  it('GET /workspaces/{id}, GET /workspaces/{id}/builds and GET /workspaces are one statement each', async () => {
    assert.equal((await cost(`/api/v2/workspaces/${ws.id}`, '/api/v2/workspaces/:workspace')).n, 1);
    assert.equal((await cost(`/api/v2/workspaces/${ws.id}/builds?limit=25`, '/api/v2/workspaces/:workspace/builds')).n, 1);
    assert.equal((await cost('/api/v2/workspaces?limit=25', '/api/v2/workspaces')).n, 1);
    assert.equal((await cost(`/api/v2/workspaces?q=owner:${owner.username}%20status:running&limit=25`, '/api/v2/workspaces')).n, 1);
  });

  it('GET /workspaces pages in SQL: the count is of every match, the page is a slice of the full list, status filters before paging', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, {});
    const made: Workspace[] = [];
    for (let i = 0; i < 5; i++) made.push(await createWorkspace(owner.client, owner.organizationId, template.id));
    for (const w of made) await waitForBuild(owner.client, w.latest_build.id);
    const stop = await owner.client.createWorkspaceBuild(made[1]!.id, { transition: 'stop' });
    await waitForBuild(owner.client, stop.id);
    const q = `template:${template.name}`;
    const all = await owner.client.workspaces({ q });
    assert.equal(all.count, 5);
    assert.deepEqual(all.workspaces.map((w) => w.id), made.map((w) => w.id).reverse(), 'newest first');
    const page = await owner.client.workspaces({ q, limit: 2, offset: 1 });
    assert.equal(page.count, 5);
    assert.deepEqual(page.workspaces.map((w) => w.id), all.workspaces.slice(1, 3).map((w) => w.id));
    const running = await owner.client.workspaces({ q: `${q} status:running`, limit: 2, offset: 2 });
    assert.equal(running.count, 4);
    assert.deepEqual(running.workspaces.map((w) => w.id), all.workspaces.filter((w) => w.id !== made[1]!.id).slice(2, 4).map((w) => w.id));
    const stopped = await owner.client.workspaces({ q: `${q} status:stopped` });
    assert.deepEqual(stopped.workspaces.map((w) => [w.id, w.latest_build.status]), [[made[1]!.id, 'stopped']]);
    assert.equal((await owner.client.workspaces({ q, offset: 10 })).workspaces.length, 0);
  });
});
