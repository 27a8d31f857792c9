import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';

import { assertEnvelope, request } from './envelope.js';

/**
 * Cross-site request forgery, over raw HTTP with the headers a browser sends (the Chromium run is test/web/csrf.test.ts):
 * a request carrying the session cookie that changes state, or opens a WebSocket, must come from kiln's own origin.
 */
describe('CSRF: cookie-authenticated requests from another origin', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let cookie: string;
  const foreign = 'http://127.0.0.1:1';

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    cookie = `coder_session_token=${owner.client.token}`;
  });
  after(async () => srv.close());

  const newUser = (n: string) => ({ email: `${n}@example.com`, username: n, password: 'a-long-password', roles: ['owner'] });

  it('refuses a state change with the cookie and a foreign Origin (403, envelope), and creates nothing', async () => {
    const res = await request(srv.url, 'POST', '/api/v2/users', { headers: { cookie, origin: foreign, 'content-type': 'text/plain' }, json: newUser('csrf1') });
    assertEnvelope(res, 403, 'Cross-origin request refused.');
    const users = await request(srv.url, 'GET', '/api/v2/users/csrf1', { token: owner.client.token });
    assertEnvelope(users, 400, '"user" must be an existing uuid or username.');
  });

  it('refuses a cookie request the browser marks cross-site or same-site without Origin (Sec-Fetch-Site)', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const res = await request(srv.url, 'POST', '/api/v2/users/logout', { headers: { cookie, 'sec-fetch-site': site } });
      assertEnvelope(res, 403, 'Cross-origin request refused.');
    }
    assert.equal((await owner.client.me()).id, owner.userId, 'the session survived');
  });

  it('accepts the same request from the access URL origin, and header-token requests from anywhere', async () => {
    const same = await request(srv.url, 'POST', '/api/v2/users', { headers: { cookie, origin: new URL(srv.url).origin }, json: newUser('csrf2') });
    assert.equal(same.status, 201, same.text);
    const sameSite = await request(srv.url, 'POST', '/api/v2/users', { headers: { cookie, 'sec-fetch-site': 'same-origin' }, json: newUser('csrf3') });
    assert.equal(sameSite.status, 201, sameSite.text);
    const header = await request(srv.url, 'POST', '/api/v2/users', { token: owner.client.token, headers: { origin: foreign }, json: newUser('csrf4') });
    assert.equal(header.status, 201, header.text);
    const query = await request(srv.url, 'POST', `/api/v2/users?coder_session_token=${owner.client.token}`, { headers: { origin: foreign }, json: newUser('csrf5') });
    assert.equal(query.status, 201, query.text);
  });

  it('lets cookie reads through from anywhere (the browser keeps their answers from a foreign page)', async () => {
    const res = await request(srv.url, 'GET', '/api/v2/users/me', { headers: { cookie, origin: foreign } });
    assert.equal(res.status, 200);
  });

  it('refuses a workspace delete by cookie from a foreign origin; the workspace stays', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId);
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const res = await request(srv.url, 'POST', `/api/v2/workspaces/${ws.id}/builds`, { headers: { cookie, origin: foreign }, json: { transition: 'delete' } });
    assertEnvelope(res, 403);
    const again = await owner.client.workspace(ws.id);
    assert.equal(again.latest_build.id, ws.latest_build.id, 'no delete build was created');
  });

  it('refuses a cookie-only WebSocket with a foreign Origin with 403 before the upgrade; accepts it from the own origin', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { logs: [{ output: 'secret line' }] } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const url = `${srv.url.replace('http', 'ws')}/api/v2/workspacebuilds/${ws.latest_build.id}/logs?follow=true`;
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const s = new WebSocket(url, { headers: { cookie, origin: foreign } });
      s.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      s.on('open', () => reject(new Error('the foreign WebSocket was accepted')));
      s.on('error', () => {});
    });
    assert.equal(refused.status, 403);
    assert.equal(JSON.parse(refused.body).message, 'Cross-origin request refused.');

    const lines = await new Promise<string[]>((resolve, reject) => {
      const s = new WebSocket(url, { headers: { cookie, origin: new URL(srv.url).origin } });
      const got: string[] = [];
      s.on('message', (m: Buffer) => got.push((JSON.parse(m.toString()) as { output: string }).output));
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    assert.ok(lines.includes('secret line'), `own-origin follow got ${JSON.stringify(lines)}`);
  });
});

describe('roles and cookies', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0, overrides: { accessUrl: 'https://kiln.example.com' } });
    owner = await srv.createFirstUser();
  });
  after(async () => srv.close());

  it('sets Secure on the session cookie under an https access URL', async () => {
    const res = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: owner.email, password: owner.password } });
    assert.equal(res.status, 201);
    const set = res.headers.get('set-cookie') ?? '';
    assert.match(set, /; Secure(;|$)/);
    assert.match(set, /HttpOnly/);
  });

  it('lets a user-admin create members only: any other role is 403, and nothing is created', async () => {
    const admin = await srv.createUser(owner.client, ['user-admin']);
    for (const role of ['owner', 'template-admin', 'user-admin'] as const) {
      const res = await request(srv.url, 'POST', '/api/v2/users', {
        token: admin.client.token,
        json: { email: `ua-${role}@example.com`, username: `ua-${role}`, password: 'a-long-password', roles: [role] },
      });
      assertEnvelope(res, 403, 'Forbidden.');
      assert.equal((await request(srv.url, 'GET', `/api/v2/users/ua-${role}`, { token: owner.client.token })).status, 400, 'no such user');
    }
    const member = await request(srv.url, 'POST', '/api/v2/users', {
      token: admin.client.token,
      json: { email: 'ua-member@example.com', username: 'ua-member', password: 'a-long-password', roles: [] },
    });
    assert.equal(member.status, 201, member.text);
  });
});

describe('session cookie over http', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
  });
  after(async () => srv.close());

  it('is not Secure when the access URL is http (the browser would drop it)', async () => {
    const owner = await srv.createFirstUser();
    const res = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: owner.email, password: owner.password } });
    assert.doesNotMatch(res.headers.get('set-cookie') ?? '', /Secure/);
  });
});
