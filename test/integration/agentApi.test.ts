import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { AgentClient, CoordinateRefused } from '../../src/sdk/agentsdk.js';
import type { WorkspaceAgent } from '../../src/sdk/types/workspaceBuilds.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

/** An echo template whose start reports one agent with a fixed token, an app with a healthcheck and one without. */
function echoWithAgent(token: string) {
  const resources = [
    {
      name: 'dev',
      type: 'echo_container',
      agents: [
        {
          name: 'main',
          auth_token: token,
          startup_script: 'echo hi',
          directory: '/home/dev',
          environment_variables: { FOO: 'bar' },
          apps: [
            { slug: 'checked', url: 'http://127.0.0.1:1', healthcheck: { url: 'http://127.0.0.1:1/health', interval: 5, threshold: 2 } },
            { slug: 'plain', url: 'http://127.0.0.1:2' },
          ],
        },
      ],
    },
  ];
  return { start: { resources }, stop: { resources: [] } };
}

describe('agent API', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  let token: string;
  let ws: Workspace;
  let agentClient: AgentClient;
  let agent: WorkspaceAgent;

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1, overrides: { agentConnectionUpdateMs: 200 } });
    owner = await srv.createFirstUser();
    member = await srv.createUser(owner.client);
    token = randomUUID();
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, echoWithAgent(token));
    ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    const b = await waitForBuild(owner.client, ws.latest_build.id);
    agent = b.resources.flatMap((r) => r.agents ?? [])[0] as WorkspaceAgent;
    assert.ok(agent);
    agentClient = new AgentClient(srv.url, token);
  });
  after(async () => srv.close());

  it('agent tokens: missing, malformed and unknown answer 401 with the reference details; header, query and cookie work', async () => {
    const noToken = new AgentClient(srv.url, '');
    let e = await expectApiError(noToken.metadata(), 401);
    assert.equal(e.response.detail, 'Cookie "coder_session_token" must be provided.');
    e = await expectApiError(new AgentClient(srv.url, 'not-a-uuid').metadata(), 401);
    assert.equal(e.response.detail, 'Agent token is invalid.');
    e = await expectApiError(new AgentClient(srv.url, randomUUID()).metadata(), 401);
    assert.equal(e.response.detail, 'Agent token is invalid.');
    // A user's session token is not an agent token.
    await expectApiError(new AgentClient(srv.url, owner.client.token as string).metadata(), 401);
    const viaQuery = await fetch(`${srv.url}/api/v2/workspaceagents/me/metadata?coder_session_token=${token}`);
    assert.equal(viaQuery.status, 200);
    const viaCookie = await fetch(`${srv.url}/api/v2/workspaceagents/me/metadata`, { headers: { Cookie: `coder_session_token=${token}` } });
    assert.equal(viaCookie.status, 200);
  });

  it('metadata: apps, env, directory, scripts and timeouts', async () => {
    const m = await agentClient.metadata();
    assert.equal(m.agent_id, agent.id);
    assert.equal(m.workspace_id, ws.id);
    assert.deepEqual(m.environment_variables, { FOO: 'bar' });
    assert.equal(m.directory, '/home/dev');
    assert.equal(m.startup_script, 'echo hi');
    assert.equal(m.startup_script_timeout, m.startup_script_timeout_seconds * 1e9);
    assert.deepEqual(m.apps.map((a) => [a.slug, a.health]), [['checked', 'initializing'], ['plain', 'disabled']]);
  });

  it('report-lifecycle: 204 and stored; an invalid state is 400 with the list', async () => {
    await agentClient.reportLifecycle('starting');
    assert.equal((await owner.client.workspaceAgent(agent.id)).lifecycle_state, 'starting');
    const e = await expectApiError(agentClient.reportLifecycle('bogus' as never), 400, 'Invalid lifecycle state.');
    assert.match(e.response.detail ?? '', /^Invalid lifecycle state "bogus", must be be one of \["created" "starting" .* "off"\]\.$/);
    const res = await fetch(`${srv.url}/api/v2/workspaceagents/me/report-lifecycle`, {
      method: 'POST',
      headers: { 'Coder-Session-Token': token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ state: 'ready' }),
    });
    assert.equal(res.status, 204);
    assert.equal((await owner.client.workspaceAgent(agent.id)).lifecycle_state, 'ready');
  });

  it('app-health: the rows of reference §9.5', async () => {
    const [checked, plain] = agent.apps;
    assert.ok(checked && plain);
    await expectApiError(agentClient.postAppHealth({ healths: {} }), 400, 'Health field is empty');
    const unknown = randomUUID();
    let e = await expectApiError(agentClient.postAppHealth({ healths: { [unknown]: 'healthy' } }), 404, 'Error setting workspace app health');
    assert.equal(e.response.detail, `workspace app name ${unknown} not found`);
    e = await expectApiError(agentClient.postAppHealth({ healths: { [plain.id]: 'healthy' } }), 404, 'Error setting workspace app health');
    assert.equal(e.response.detail, `health checking is disabled for workspace app ${plain.id}`);
    e = await expectApiError(agentClient.postAppHealth({ healths: { [checked.id]: 'disabled' } }), 400, 'Error setting workspace app health');
    assert.equal(e.response.detail, 'workspace app health disabled is not a valid value');
    const res = await fetch(`${srv.url}/api/v2/workspaceagents/me/app-health`, {
      method: 'POST',
      headers: { 'Coder-Session-Token': token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ healths: { [checked.id]: 'healthy' } }),
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'null');
    assert.equal((await owner.client.workspaceAgent(agent.id)).apps.find((a) => a.id === checked.id)?.health, 'healthy');
  });

  it('version: semver stored; anything else 400', async () => {
    await agentClient.postVersion('v1.2.3');
    assert.equal((await owner.client.workspaceAgent(agent.id)).version, 'v1.2.3');
    const e = await expectApiError(agentClient.postVersion('banana'), 400, 'Invalid workspace agent version provided.');
    assert.equal(e.response.detail, 'invalid semver version: "banana"');
  });

  it('startup logs: empty batch 400, bad level 400, list with before/after, follow ends when the agent leaves starting', async () => {
    await expectApiError(agentClient.patchStartupLogs({ logs: [] }), 400, 'No logs provided.');
    await expectApiError(agentClient.patchStartupLogs({ logs: [{ created_at: new Date().toISOString(), output: 'x', level: 'loud' as never }] }), 400, 'Invalid log level provided.');
    await agentClient.reportLifecycle('starting');
    await agentClient.patchStartupLogs({ logs: ['one', 'two', 'three'].map((output) => ({ created_at: new Date().toISOString(), output, level: 'info' as const })) });
    const all = await owner.client.workspaceAgentStartupLogs(agent.id);
    assert.deepEqual(all.map((l) => l.output), ['one', 'two', 'three']);
    const [a, b, c] = all.map((l) => l.id) as [number, number, number];
    assert.deepEqual((await owner.client.workspaceAgentStartupLogs(agent.id, { after: a })).map((l) => l.id), [b, c]);
    assert.deepEqual((await owner.client.workspaceAgentStartupLogs(agent.id, { before: c })).map((l) => l.id), [a, b]);
    await expectApiError(owner.client.workspaceAgentStartupLogs(agent.id, { after: 'x' as never }), 400);

    const seen: string[] = [];
    const follow = owner.client.followWorkspaceAgentStartupLogs(agent.id, { after: a });
    const done = (async () => {
      for await (const l of follow) seen.push(l.output);
    })();
    await waitFor(() => seen.length === 2, 'backlog');
    await agentClient.patchStartupLogs({ logs: [{ created_at: new Date().toISOString(), output: 'four', level: 'info' }] });
    await waitFor(() => seen.length === 3, 'live line');
    await agentClient.reportLifecycle('ready');
    await done;
    assert.deepEqual(seen, ['two', 'three', 'four']);
    assert.equal((await follow.end).code, 1000);
  });

  it('startup logs: capped at 1 MiB, then 413 and the overflow flag', async () => {
    const line = 'x'.repeat(64 * 1024 - 1);
    const batch = Array.from({ length: 8 }, () => ({ created_at: new Date().toISOString(), output: line, level: 'info' as const }));
    await agentClient.patchStartupLogs({ logs: batch });
    const e = await expectApiError(agentClient.patchStartupLogs({ logs: [...batch, ...batch] }), 413, 'Startup logs limit exceeded.');
    assert.ok(e.response.detail);
    const a = await owner.client.workspaceAgent(agent.id);
    assert.equal(a.startup_logs_overflowed, true);
    assert.ok(a.startup_logs_length <= 1024 * 1024);
    await expectApiError(agentClient.patchStartupLogs({ logs: [{ created_at: new Date().toISOString(), output: 'more', level: 'info' }] }), 413);
  });

  it('GET /workspaceagents/{id}: readable by the workspace owner, 404 for others and unknown ids, 400 for a bad id', async () => {
    assert.equal((await owner.client.workspaceAgent(agent.id)).id, agent.id);
    await expectApiError(member.client.workspaceAgent(agent.id), 404);
    await expectApiError(owner.client.workspaceAgent(randomUUID()), 404);
    await expectApiError(owner.client.workspaceAgent('nope'), 400);
    await expectApiError(srv.client.workspaceAgent(agent.id), 401);
  });

  it('coordinate: open → connected (watchers hear it), close → disconnected; plain GET is 400', async () => {
    const plain = await fetch(`${srv.url}/api/v2/workspaceagents/me/coordinate`, { headers: { 'Coder-Session-Token': token } });
    assert.equal(plain.status, 400);
    // The workspace watch (SSE) sends the workspace again on every agent transition.
    const events: string[] = [];
    const watch = new AbortController();
    const res = await fetch(`${srv.url}/api/v2/workspaces/${ws.id}/watch`, { headers: { 'Coder-Session-Token': owner.client.token as string }, signal: watch.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    void (async () => {
      const dec = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        for (const m of dec.decode(value).matchAll(/event: data/g)) events.push(m[0]);
      }
    })();
    await waitFor(() => events.length >= 1, 'initial watch event');
    const before = events.length;
    const socket = await agentClient.coordinate();
    await waitFor(() => events.length > before, 'watch event on connect');
    const connected = await waitFor(async () => {
      const a = await owner.client.workspaceAgent(agent.id);
      return a.status === 'connected' ? a : undefined;
    }, 'connected');
    assert.ok(connected.first_connected_at);
    // Refreshed while open: last_connected_at moves although nothing is sent.
    await waitFor(async () => (await owner.client.workspaceAgent(agent.id)).last_connected_at !== connected.last_connected_at, 'refresh');
    socket.close();
    const beforeClose = events.length;
    await waitFor(async () => (await owner.client.workspaceAgent(agent.id)).status === 'disconnected', 'disconnected');
    await waitFor(() => events.length > beforeClose, 'watch event on disconnect');
    watch.abort();
    await assert.rejects(new AgentClient(srv.url, randomUUID()).coordinate(), (e: unknown) => e instanceof CoordinateRefused && e.status === 401);
  });

  it('an agent of an older build is refused 403 on coordinate and metadata, but may still report its own lifecycle', async () => {
    const stop = await owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    await waitForBuild(owner.client, stop.id);
    const e = await expectApiError(agentClient.metadata(), 403, 'Agent trying to connect from non-latest build.');
    assert.equal(e.response.message, 'Agent trying to connect from non-latest build.');
    await assert.rejects(agentClient.coordinate(), (err: unknown) => err instanceof CoordinateRefused && err.status === 403);
    await agentClient.reportLifecycle('off');
    assert.equal((await owner.client.workspaceAgent(agent.id)).lifecycle_state, 'off');
    // The token of a new start build resolves to the new agent.
    const start = await owner.client.createWorkspaceBuild(ws.id, { transition: 'start' });
    const b = await waitForBuild(owner.client, start.id);
    const fresh = b.resources.flatMap((r) => r.agents ?? [])[0];
    assert.equal((await agentClient.metadata()).agent_id, fresh?.id);
    const ws2 = new WebSocket(`${srv.url.replace('http', 'ws')}/api/v2/workspaceagents/me/coordinate`, { headers: { 'Coder-Session-Token': token } });
    await new Promise((resolve, reject) => (ws2.once('open', resolve), ws2.once('error', reject)));
    ws2.close();
  });
});
