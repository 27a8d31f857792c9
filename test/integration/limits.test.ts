import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { streamCaps } from '../../src/api/http/streamCaps.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

import { assertEnvelope, request } from './envelope.js';

/** Inputs and streams that must stay bounded: nesting, NUL and broken UTF-16, login guessing, watches, page sizes. */
describe('bounded inputs and streams', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1, overrides: { loginLimits: { perIp: 1000, perAccount: 5, windowMs: 3_600_000 }, streamLimits: { follow: 4, watch: 2, maxUnsentBytes: 32 * 1024 } } });
    owner = await srv.createFirstUser();
  });
  after(async () => srv.close());

  it('answers 400 (not 500) to JSON nested 4,500 deep, on any route', async () => {
    const deep = '['.repeat(4500) + ']'.repeat(4500);
    for (const p of ['/api/v2/users/login', '/api/v2/users', `/api/v2/organizations/${owner.organizationId}/templates`]) {
      const res = await request(srv.url, 'POST', p, { token: owner.client.token, headers: { 'content-type': 'application/json' }, raw: deep });
      assertEnvelope(res, 400, 'Request body must be valid JSON.');
    }
    const ok = await request(srv.url, 'POST', '/api/v2/users/login', { raw: JSON.stringify({ email: owner.email, password: owner.password, n: [[[[1]]]] }) });
    assert.equal(ok.status, 201, 'ordinary nesting passes');
  });

  it('answers 400 to a NUL or a lone surrogate in a body, a query string or a path, unauthenticated login included', async () => {
    const login = await request(srv.url, 'POST', '/api/v2/users/login', { raw: '{"email":"a\\u0000@example.com","password":"x"}' });
    const env = assertEnvelope(login, 400, 'Invalid characters in request.');
    assert.equal(env.validations?.[0]?.field, 'email');
    assertEnvelope(await request(srv.url, 'POST', '/api/v2/users', { token: owner.client.token, raw: '{"email":"x@example.com","username":"\\ud800","password":"a-long-password"}' }), 400);
    assertEnvelope(await request(srv.url, 'POST', '/api/v2/users', { token: owner.client.token, raw: '{"\\u0000":1}' }), 400);
    assertEnvelope(await request(srv.url, 'GET', '/api/v2/workspaces?q=owner:%00', { token: owner.client.token }), 400, 'Invalid characters in request.');
    assertEnvelope(await request(srv.url, 'GET', '/api/v2/users/a%00b', { token: owner.client.token }), 400, 'Invalid characters in request.');
  });

  it('rate-limits wrong-password logins per account with 429 and Retry-After, before hashing; a correct login for another account still works', async () => {
    const other = await srv.createUser(owner.client);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const r = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: other.email, password: 'wrong-password' } });
      statuses.push(r.status);
      if (r.status === 429) {
        assertEnvelope(r, 429, 'Too many login attempts.');
        retryAfter = r.headers.get('retry-after');
      }
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    assert.ok(Number(retryAfter) > 0, `Retry-After: ${retryAfter}`);
    // Even the right password waits out the window for the account under attack…
    assert.equal((await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: other.email, password: other.password } })).status, 429);
    // …while everyone else signs in as usual, and successful logins never count.
    for (let i = 0; i < 8; i++) assert.equal((await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: owner.email, password: owner.password } })).status, 201);
  });

  it('caps concurrent watches per user (429), frees the slot when a watch closes, and drops a client that does not read', async () => {
    // Big workspace events (resources with long metadata), so the kernel's socket buffers fill after a few dozen.
    const resources = Array.from({ length: 40 }, (_, i) => ({ name: `r${i}`, type: 'echo_thing', metadata: Array.from({ length: 20 }, (_, j) => ({ key: `k${j}`, value: 'v'.repeat(400) })) }));
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { resources } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const caps = streamCaps(srv.server.api.ctx);
    const url = new URL(`/api/v2/workspaces/${ws.id}/watch`, srv.url);
    const open = () =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get(url, { headers: { 'Coder-Session-Token': owner.client.token as string } }, resolve);
        req.on('error', reject);
      });
    const a = await open();
    const b = await open();
    assert.equal(a.statusCode, 200);
    assert.equal(b.statusCode, 200);
    assertEnvelope(await request(srv.url, 'GET', url.pathname, { token: owner.client.token }), 429, 'Too many open workspace watches.');
    a.destroy();
    await waitFor(() => caps.openCount(owner.userId, 'watch') === 1, 'the closed watch to give its slot back');

    // b never reads: pause it and make the server write until its bound is reached; it is dropped, not buffered.
    b.pause();
    const closed = new Promise<void>((resolve) => b.socket.once('close', () => resolve()));
    for (let i = 0; i < 1000 && caps.openCount(owner.userId, 'watch') > 0; i++) {
      await owner.client.http.json('PUT', `/api/v2/workspaces/${ws.id}/ttl`, { body: { ttl_ms: 3_600_000 + i * 60_000 } });
    }
    await waitFor(() => caps.openCount(owner.userId, 'watch') === 0, 'the server to drop the reader that does not read');
    b.destroy();
    await closed;
  });

  it('caps concurrent log follows per user: one over the cap is closed with 1008; a closed follow frees its slot', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { logs: [{ output: 'waiting' }], hang: true } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    const url = `${srv.url.replace('http', 'ws')}/api/v2/workspacebuilds/${ws.latest_build.id}/logs?follow=true`;
    const follow = () =>
      new Promise<{ socket: WebSocket; closed: Promise<number> }>((resolve, reject) => {
        const socket = new WebSocket(url, { headers: { 'Coder-Session-Token': owner.client.token as string } });
        const closed = new Promise<number>((r) => socket.once('close', (code) => r(code)));
        socket.once('open', () => resolve({ socket, closed }));
        socket.once('error', reject);
      });
    const caps = streamCaps(srv.server.api.ctx);
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await follow());
    await waitFor(() => caps.openCount(owner.userId, 'follow') === 4, 'four follows counted');
    const fifth = await follow();
    assert.equal(await fifth.closed, 1008);
    open[0]?.socket.close();
    await waitFor(() => caps.openCount(owner.userId, 'follow') === 3, 'the closed follow to give its slot back');
    const again = await follow();
    for (const f of [...open.slice(1), again]) f.socket.close();
    await waitFor(() => caps.openCount(owner.userId, 'follow') === 0, 'every slot back');
    await owner.client.cancelWorkspaceBuild(ws.latest_build.id);
  });

  it('lists have a default and a maximum page size', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId);
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const one = await request(srv.url, 'GET', `/api/v2/workspaces/${ws.id}/builds?limit=99999999`, { token: owner.client.token });
    assert.equal(one.status, 200, 'an over-large limit is lowered, not refused');
    const list = await request(srv.url, 'GET', '/api/v2/workspaces?limit=0', { token: owner.client.token });
    assert.equal(list.status, 200);
    const { pageSize, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } = await import('../../src/api/http/pagination.js');
    assert.equal(pageSize(undefined), DEFAULT_PAGE_SIZE);
    assert.equal(pageSize(0), DEFAULT_PAGE_SIZE);
    assert.equal(pageSize(10 ** 9), MAX_PAGE_SIZE);
  });
});

describe('malformed HTTP', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
  });
  after(async () => srv.close());

  it('answers an HTTP/1.1 request without Host with a 400 envelope, not an empty body', async () => {
    const { hostname, port } = new URL(srv.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const s = net.connect(Number(port), hostname, () => s.write('GET /api/v2/buildinfo HTTP/1.1\r\nConnection: close\r\n\r\n'));
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    assert.equal((JSON.parse(body) as { message: string }).message, 'Missing Host header.');
  });
});
