import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { findBwrap } from '../../src/provisioners/local/sandbox.js';
import { APP_TOKEN_QUERY, appSubdomainName, SUBDOMAIN_APP_COOKIE } from '../../src/sdk/apps.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { createHeaderEchoWorkspace } from '../harness/apps.js';
import { killAll, latestAgent } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
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

    // The dashboard origin: without a session, no token.
    assert.equal((await request(srv.url, new URL(srv.url).host, `${toDashboard.pathname}${toDashboard.search}`)).status, 401);
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
