import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';

import Fastify from 'fastify';

import { fastifyErrorOptions, installErrorHandling } from '../../src/api/http/errorHandler.js';
import { uuidParams } from '../../src/api/schemas/common.js';
import { createLogger } from '../../src/lib/logger.js';
import { KilnClient } from '../../src/sdk/client.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';

import { assertEnvelope, checkEnvelope, request } from './envelope.js';

/** Sends raw bytes on a fresh connection and returns everything the server wrote before closing it. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let out = '';
    const s = net.connect(Number(port), hostname, () => s.write(bytes));
    s.on('data', (d) => (out += d.toString()));
    s.on('error', reject);
    s.on('close', () => resolve(out));
  });
}

describe('HTTP conventions', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    owner = await srv.createFirstUser();
  });
  after(async () => srv.close());

  it('answers unknown routes with a 404 envelope, never echoing the query', async () => {
    for (const [method, path] of [
      ['GET', '/api/v2/nothing-here'],
      ['POST', '/api/v2/users/me/nothing'],
      ['DELETE', '/api/v2/buildinfo'],
      // Non-API GET paths belong to the dashboard (its SPA fallback serves index.html), so probe under /api.
      ['GET', '/api/no/such/page?coder_session_token=secret-value'],
    ] as const) {
      const res = await request(srv.url, method, path, { token: owner.client.token });
      const env = assertEnvelope(res, 404, 'Route not found.');
      assert.ok(!res.text.includes('secret-value'));
      assert.equal(env.detail, `${method} ${path.split('?')[0]}`);
    }
  });

  it('answers a body that is not JSON with 400 "Request body must be valid JSON." whatever the content type', async () => {
    for (const headers of [{ 'Content-Type': 'application/json' }, { 'Content-Type': 'text/plain' }, {}] as Record<string, string>[]) {
      const res = await request(srv.url, 'POST', '/api/v2/users/login', { raw: '{"email": "a@b.c",', headers });
      const env = assertEnvelope(res, 400, 'Request body must be valid JSON.');
      assert.ok(env.detail, 'the decoder error is the detail');
    }
    // No body, or JSON that is not an object, is not what the route reads either.
    assertEnvelope(await request(srv.url, 'POST', '/api/v2/users/login', { headers: { 'Content-Type': 'application/json' } }), 400, 'Request body must be valid JSON.');
    for (const raw of ['[1, 2]', '"text"', '42', 'null']) {
      const res = await request(srv.url, 'POST', '/api/v2/users/login', { raw, headers: { 'Content-Type': 'application/json' } });
      assertEnvelope(res, 400, 'Request body must be valid JSON.');
    }
  });

  it('answers schema failures with 400 "Validation failed." and one entry per failing field', async () => {
    const res = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: 1, password: ['x'], extra: true } });
    const env = assertEnvelope(res, 400, 'Validation failed.');
    assert.deepEqual(env.validations?.map((v) => v.field).sort(), ['email', 'password']);
    const email = env.validations?.find((v) => v.field === 'email');
    assert.equal(email?.detail, 'Validation failed for tag "type" with value: "1"');
    // Unknown fields are ignored, as in Coder.
    const ok = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: owner.email, password: owner.password, extra: true } });
    assert.equal(ok.status, 201);
  });

  it('answers a bad UUID in a path with 400 Invalid UUID "<raw>".', async () => {
    for (const raw of ['nope', '1234', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz']) {
      const env = assertEnvelope(await request(srv.url, 'GET', `/api/v2/files/${raw}`, { token: owner.client.token }), 400, `Invalid UUID "${raw}".`);
      assert.deepEqual(env.validations, [{ field: 'fileID', detail: 'Invalid UUID' }]);
    }
  });

  it('answers an oversize JSON body with 413 and the envelope', async () => {
    const res = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: 'a@b.c', password: 'x'.repeat(3 * 1024 * 1024) } });
    assertEnvelope(res, 413, 'Request body is too large.');
  });

  it('answers malformed HTTP with the envelope too', async () => {
    const out = await rawExchange(srv.url, 'NOT AN HTTP REQUEST\r\n\r\n');
    const [head = '', body = ''] = out.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 400 /);
    assert.match(head, /content-type: application\/json/i);
    assert.equal(checkEnvelope(JSON.parse(body), body).message, 'Malformed HTTP request.');
  });

  it('serves HEAD for GET routes and answers JSON with charset utf-8', async () => {
    const res = await fetch(new URL('/api/v2/buildinfo', srv.url), { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  });
});

describe('errors Fastify raises before routing', () => {
  // These options belong in the Fastify constructor of src/api/app.ts; this test holds them to the envelope.
  const app = Fastify({ ...fastifyErrorOptions, logger: false });
  before(async () => {
    installErrorHandling(app);
    app.get('/things/:id', { schema: { params: uuidParams('id') } }, async () => ({ ok: true }));
    await app.ready();
  });
  after(async () => app.close());

  it('a path that is not valid percent-encoding is a 400 envelope', async () => {
    const res = await app.inject({ method: 'GET', url: '/things/%E0%A4%A' });
    assert.equal(res.statusCode, 400);
    assert.equal(checkEnvelope(res.json(), res.body).message, 'Invalid URL.');
  });

  it('an over-long path parameter is a 400 envelope', async () => {
    const res = await app.inject({ method: 'GET', url: `/things/${'a'.repeat(200)}` });
    assert.equal(res.statusCode, 400);
    assert.equal(checkEnvelope(res.json(), res.body).message, 'A path parameter is too long.');
  });
});

describe('request logs', () => {
  const lines: string[] = [];
  let srv: TestServer;
  before(async () => {
    const logger = createLogger('trace', { write: (s: string) => void lines.push(s) });
    srv = await startTestServer({ provisionerDaemons: 0, logger });
  });
  after(async () => srv.close());

  it('never contain tokens or passwords', async () => {
    const owner = await srv.createFirstUser();
    const token = owner.client.token as string;
    const secrets = [owner.password, token, token.split('-')[1] as string];
    const memberPassword = 'member-secret-password';
    secrets.push(memberPassword);
    await owner.client.createUser({ email: 'logged@example.com', username: 'logged', password: memberPassword });
    const member = new KilnClient(srv.url);
    await member.login('logged@example.com', memberPassword);
    secrets.push(member.token as string);
    await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: 'logged@example.com', password: 'wrong-secret-password' } });
    secrets.push('wrong-secret-password');
    const { key } = await owner.client.createAPIKey('me');
    secrets.push(key);
    await request(srv.url, 'GET', `/api/v2/users/me?coder_session_token=${token}`);
    await request(srv.url, 'GET', '/api/v2/users/me', { headers: { cookie: `coder_session_token=${token}` } });
    await request(srv.url, 'GET', '/api/v2/users/me', { headers: { authorization: `Bearer ${key}` } });
    await request(srv.url, 'GET', `/api/v2/nothing?coder_session_token=${token}`);
    const badToken = 'abcdefghij-klmnopqrstuvwxyz012345';
    await request(srv.url, 'GET', '/api/v2/users/me', { token: badToken });
    secrets.push(badToken);
    await request(srv.url, 'POST', '/api/v2/users/login', { raw: `{"password":"broken-json-secret"`, headers: { 'Content-Type': 'application/json' } });
    secrets.push('broken-json-secret');
    await request(srv.url, 'POST', '/api/v2/users/logout', { token: member.token });

    const all = lines.join('');
    const requestLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    assert.ok(requestLines.length >= 10, `expected request log lines, got ${requestLines.length}`);
    assert.ok(requestLines.some((l) => l.path === '/api/v2/users/me' && l.status === 200 && l.method === 'GET'));
    for (const s of secrets) assert.ok(!all.includes(s), `a log line contains ${s}`);
    assert.doesNotMatch(all, /scrypt\$/, 'no password hash in the logs');
  });
});
