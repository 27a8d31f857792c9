import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { findBwrap } from '../../src/provisioners/local/sandbox.js';
import { APP_TOKEN_QUERY, appSubdomainName, SUBDOMAIN_APP_COOKIE } from '../../src/sdk/apps.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { AgentClient } from '../../src/sdk/agentsdk.js';
import { decodeFrame, encodeFrame, FrameType } from '../../src/sdk/tunnel/frames.js';
import { createHeaderEchoWorkspace } from '../harness/apps.js';
import { killAll, latestAgent } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request to the server's address with a chosen Host header (as a browser resolving *.localhost would send it). */
function request(base: string, host: string, p: string, headers: Record<string, string> = {}): Promise<Res> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: p, headers: { ...headers, host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The same with a body both ways, as bytes. */
function requestBytes(base: string, host: string, p: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: p, method: body ? 'POST' : 'GET', headers: { ...headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('apps through kiln, on their own origin', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let other: TestUser;
  let ws: Workspace;
  let appHost: string;

  before(async () => {
    assert.ok(await findBwrap(), 'bwrap is required for these tests: apt-get install -y bubblewrap');
    srv = await startTestServer({ provisionerDaemons: 1, overrides: { agentConnectionUpdateMs: 500 } });
    owner = await srv.createFirstUser();
    other = await srv.createUser(owner.client);
    ws = await createHeaderEchoWorkspace(owner.client, owner.organizationId);
    const { host } = await owner.client.appHost();
    assert.equal(host, `*.apps.localhost:${new URL(srv.url).port}`);
    appHost = host.replace('*', appSubdomainName({ app: 'web', agent: 'main', workspace: ws.name, owner: owner.username }));
  });
  after(async () => {
    if (srv) await killAll(`KILN_AGENT_URL=${srv.url}`);
    await srv?.close();
  });

  it('names each app by its subdomain on the wire', async () => {
    const agent = await latestAgent(owner.client, ws.id);
    assert.equal(agent.apps[0]?.subdomain_name, appHost.split('.')[0]);
    assert.equal((await owner.client.workspaceAgent(agent.id)).apps[0]?.subdomain_name, appHost.split('.')[0]);
  });

  it("serves the workspace's app by its Host with a session header; kiln's cookies and token never reach the app", async () => {
    const token = owner.client.token as string;
    const res = await request(srv.url, appHost, '/some/path?x=1', { 'Coder-Session-Token': token, cookie: `coder_session_token=${token}; theirs=1` });
    assert.equal(res.status, 200, res.body);
    const seen = JSON.parse(res.body) as { greeting: string; url: string; headers: Record<string, string> };
    assert.equal(seen.greeting, `hello from ${ws.name}`);
    assert.equal(seen.url, '/some/path?x=1');
    assert.equal(seen.headers['coder-session-token'], undefined);
    assert.equal(seen.headers.cookie, 'theirs=1');
    assert.ok(!res.body.includes(token.split('-')[1] as string), 'no part of the session token reaches the app');
    assert.equal(seen.headers['x-forwarded-host'], appHost);
    // The app may set its own cookies, never one of kiln's.
    assert.deepEqual(res.headers['set-cookie'], ['app_cookie=1; Path=/']);
  });

  it('a browser without a token goes through the auth redirect and comes back with an app-only cookie', async () => {
    const first = await request(srv.url, appHost, '/page?q=2');
    assert.equal(first.status, 307);
    const toDashboard = new URL(first.headers.location as string);
    assert.equal(toDashboard.origin, srv.url);
    assert.equal(toDashboard.pathname, '/api/v2/applications/auth-redirect');
    assert.equal(toDashboard.searchParams.get('redirect_uri'), `http://${appHost}/page?q=2`);

    // The dashboard origin: without a session, no token, but the way to sign in and come back.
    const signIn = await request(srv.url, new URL(srv.url).host, `${toDashboard.pathname}${toDashboard.search}`);
    assert.equal(signIn.status, 307);
    assert.equal(signIn.headers.location, `/login?redirect=${encodeURIComponent(`${toDashboard.pathname}${toDashboard.search}`)}`);
    const minted = await request(srv.url, new URL(srv.url).host, `${toDashboard.pathname}${toDashboard.search}`, { cookie: `coder_session_token=${owner.client.token}` });
    assert.equal(minted.status, 307, minted.body);
    const back = new URL(minted.headers.location as string);
    assert.equal(back.host, appHost);
    const appToken = back.searchParams.get(APP_TOKEN_QUERY) as string;
    assert.ok(appToken && appToken !== owner.client.token);

    const exchanged = await request(srv.url, appHost, `${back.pathname}${back.search}`);
    assert.equal(exchanged.status, 307);
    assert.equal(exchanged.headers.location, '/page?q=2');
    const cookie = (exchanged.headers['set-cookie'] ?? [])[0] as string;
    assert.match(cookie, new RegExp(`^${SUBDOMAIN_APP_COOKIE}=${appToken}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600`));

    const page = await request(srv.url, appHost, '/page?q=2', { cookie: `${SUBDOMAIN_APP_COOKIE}=${appToken}` });
    assert.equal(page.status, 200, page.body);
    const seen = JSON.parse(page.body) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/page?q=2');
    assert.equal(seen.headers.cookie, undefined, 'the app token cookie is not forwarded either');

    // The token opens this app only, and a forged one opens nothing.
    const otherApp = appHost.replace(/^web--/, 'api--');
    assert.equal((await request(srv.url, otherApp, '/', { cookie: `${SUBDOMAIN_APP_COOKIE}=${appToken}` })).status, 307);
    assert.equal((await request(srv.url, appHost, `/?${APP_TOKEN_QUERY}=${appToken.slice(0, -1)}x`)).status, 401);
    // Only app URLs are redirect targets.
    const bad = await request(srv.url, new URL(srv.url).host, `/api/v2/applications/auth-redirect?redirect_uri=${encodeURIComponent('http://evil.example/')}`, {
      'Coder-Session-Token': owner.client.token as string,
    });
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.body) as { message: string }).message, 'Invalid redirect_uri.');
  });

  it("another user gets 404 for the owner's app, by header and by auth redirect", async () => {
    const res = await request(srv.url, appHost, '/', { 'Coder-Session-Token': other.client.token as string });
    assert.equal(res.status, 404);
    assert.match(res.body, /Resource not found/);
    const redirect = await request(srv.url, new URL(srv.url).host, `/api/v2/applications/auth-redirect?redirect_uri=${encodeURIComponent(`http://${appHost}/`)}`, {
      'Coder-Session-Token': other.client.token as string,
    });
    assert.equal(redirect.status, 404);
    assert.equal(redirect.headers.location, undefined);
  });

  it('carries large bodies both ways, many requests at once, intact', async () => {
    const headers = { 'Coder-Session-Token': owner.client.token as string };
    const expected = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < expected.length; i++) expected[i] = (i * 7) % 251;
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const downloads = await Promise.all(Array.from({ length: 6 }, () => requestBytes(srv.url, appHost, '/big', headers)));
    for (const d of downloads) {
      assert.equal(d.status, 200);
      assert.equal(sha(d.body), sha(expected));
    }
    const upload = randomBytes(3 * 1024 * 1024 + 5);
    const echoed = await requestBytes(srv.url, appHost, '/echo', headers, upload);
    assert.equal(echoed.status, 200);
    assert.equal(sha(echoed.body), sha(upload));
  });

  it('carries WebSockets to the app, without kiln credentials', async () => {
    const u = new URL(srv.url);
    const token = owner.client.token as string;
    const sock = new WebSocket(`ws://${u.host}/ws`, { headers: { Host: appHost, 'Coder-Session-Token': token, Cookie: `coder_session_token=${token}` } });
    const messages: string[] = [];
    sock.on('message', (m) => messages.push(String(m)));
    await new Promise((resolve, reject) => {
      sock.once('open', resolve);
      sock.once('error', reject);
    });
    await waitFor(() => messages.length >= 1, 'the greeting frame');
    const hello = JSON.parse(messages[0] as string) as { headers: Record<string, string> };
    assert.equal(hello.headers['coder-session-token'], undefined);
    assert.equal(hello.headers.cookie, undefined);
    sock.send('ping');
    await waitFor(() => messages.includes('echo: ping'), 'the echo');
    sock.close();

    const refused = new WebSocket(`ws://${u.host}/ws`, { headers: { Host: appHost, 'Coder-Session-Token': other.client.token as string } });
    const status = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.once('open', () => resolve(101));
      refused.on('error', () => {});
    });
    refused.terminate();
    assert.equal(status, 404);
  });

  it('an expired app token opens nothing: the browser is sent for a new one', async () => {
    const dash = new URL(srv.url).host;
    const minted = await request(srv.url, dash, `/api/v2/applications/auth-redirect?redirect_uri=${encodeURIComponent(`http://${appHost}/`)}`, {
      'Coder-Session-Token': owner.client.token as string,
    });
    const appToken = new URL(minted.headers.location as string).searchParams.get(APP_TOKEN_QUERY) as string;
    assert.equal((await request(srv.url, appHost, '/', { cookie: `${SUBDOMAIN_APP_COOKIE}=${appToken}` })).status, 200);
    await srv.server.api.ctx.pool.query(`UPDATE workspace_app_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [appToken.split('-')[0]]);
    const expired = await request(srv.url, appHost, '/', { cookie: `${SUBDOMAIN_APP_COOKIE}=${appToken}` });
    assert.equal(expired.status, 307);
    assert.match(expired.headers.location as string, /\/api\/v2\/applications\/auth-redirect\?/);
  });

  it('path-based apps, when enabled, serve the app under the path without forwarding the session', async () => {
    const dash = new URL(srv.url).host;
    const base = `/@${owner.username}/${ws.name}.main/apps/web`;
    const token = owner.client.token as string;
    const options = srv.server.api.ctx.options;
    options.enablePathApps = true;
    try {
      const bare = await request(srv.url, dash, base, { cookie: `coder_session_token=${token}` });
      assert.equal(bare.status, 307);
      assert.equal(bare.headers.location, `${base}/`);
      const res = await request(srv.url, dash, `${base}/x?y=1`, { cookie: `coder_session_token=${token}; theirs=2` });
      assert.equal(res.status, 200, res.body);
      const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
      assert.equal(seen.url, '/x?y=1');
      assert.equal(seen.headers.cookie, 'theirs=2');
      assert.deepEqual(res.headers['set-cookie'], ['app_cookie=1; Path=/']);
      assert.equal((await request(srv.url, dash, `${base}/`, { 'Coder-Session-Token': other.client.token as string })).status, 404);
      assert.equal((await request(srv.url, dash, `${base}/`)).status, 401);
    } finally {
      options.enablePathApps = false;
    }
  });

  it('path-based apps are off by default', async () => {
    const res = await request(srv.url, new URL(srv.url).host, `/@${owner.username}/${ws.name}.main/apps/web/`, { 'Coder-Session-Token': owner.client.token as string });
    assert.equal(res.status, 404);
    assert.match(res.body, /Path-based applications are disabled/);
  });

  it('an app of a stopped workspace is gone: 404', async () => {
    const b = await owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    assert.equal((await waitForBuild(owner.client, b.id, undefined, 30_000)).job.status, 'succeeded');
    const res = await request(srv.url, appHost, '/', { 'Coder-Session-Token': owner.client.token as string });
    // A stopped workspace's latest build has no agent, hence no app.
    assert.equal(res.status, 404, res.body);
  });
});

describe('apps of an agent that does not speak the tunnel, or refuses the stream', () => {
  let srv: TestServer;
  after(async () => srv?.close());

  it('the agent counts as connected; its app answers 502 until it says HELLO, then 502 with its refusal', async () => {
    srv = await startTestServer({ provisionerDaemons: 1, overrides: { agentConnectionUpdateMs: 200 } });
    const owner = await srv.createFirstUser();
    const token = randomUUID();
    const resources = [{ name: 'dev', type: 'echo_container', agents: [{ name: 'main', auth_token: token, apps: [{ slug: 'web', url: 'http://127.0.0.1:8000' }] }] }];
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { resources }, stop: { resources: [] } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const socket = (await new AgentClient(srv.url, token).coordinate()) as unknown as WebSocket;
    try {
      await waitFor(async () => (await latestAgent(owner.client, ws.id)).status === 'connected', 'agent connected without the tunnel');
      const { host } = await owner.client.appHost();
      const appHost = host.replace('*', appSubdomainName({ app: 'web', agent: 'main', workspace: ws.name, owner: owner.username }));
      const headers = { 'Coder-Session-Token': owner.client.token as string };
      const before = await request(srv.url, appHost, '/', headers);
      assert.equal(before.status, 502);
      assert.equal((JSON.parse(before.body) as { message: string }).message, 'The workspace agent is not connected.');

      // A hand-written peer: HELLO, then refuse whatever the server opens.
      const opens: { stream: number; spec: unknown }[] = [];
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) return;
        const f = decodeFrame(data);
        if (f.type !== FrameType.OPEN) return;
        opens.push({ stream: f.stream, spec: JSON.parse(Buffer.from(f.payload).toString('utf8')) });
        socket.send(encodeFrame(FrameType.RESET, f.stream, Buffer.from('nothing here')));
      });
      socket.send(encodeFrame(FrameType.HELLO, 0, Buffer.from(JSON.stringify({ version: 1 }))));
      const refused = await waitFor(async () => {
        const r = await request(srv.url, appHost, '/', headers);
        return r.status === 502 && r.body.includes('nothing here') ? r : undefined;
      }, 'the refusal passed on');
      assert.equal((JSON.parse(refused.body) as { message: string }).message, 'Could not reach the application in the workspace.');
      assert.deepEqual(opens[0]?.spec, { kind: 'tcp', port: 8000 });
      assert.equal((opens[0]?.stream ?? 0) % 2, 1, 'the server opens odd stream ids');
    } finally {
      socket.close();
    }
  });
});
