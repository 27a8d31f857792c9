import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import Fastify from 'fastify';

import { webRoutes } from '../../src/api/routes/web.js';
import { startTestServer, type TestServer } from '../harness/server.js';

import { assertDashboardBuilt, WEB_INDEX } from './browser.js';

/** A request with the path sent byte for byte (fetch would normalise `..` away). */
function rawGet(url: string, rawPath: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard route', () => {
  let srv: TestServer;

  before(async () => {
    assertDashboardBuilt();
    srv = await startTestServer({ provisionerDaemons: 0 });
  });
  after(async () => {
    await srv?.close();
  });

  test('/ serves the built index.html, never cached', async () => {
    const res = await fetch(`${srv.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await res.text(), /<div id="root"><\/div>/);
  });

  test('client-side routes fall back to index.html so reloads and shared links work', async () => {
    for (const p of ['/workspaces', '/@alice/dev/builds/3', '/templates/echo?x=1', '/login']) {
      const res = await fetch(`${srv.url}${p}`);
      assert.equal(res.status, 200, p);
      assert.match(await res.text(), /<div id="root"><\/div>/, p);
    }
  });

  test('hashed assets are served with their type and cached for good', async () => {
    const assets = await readdir(path.join(path.dirname(WEB_INDEX), 'assets'));
    const js = assets.find((a) => a.startsWith('index-') && a.endsWith('.js'));
    assert.ok(js, 'the build has a JS asset');
    const res = await fetch(`${srv.url}/assets/${js}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.ok((await res.arrayBuffer()).byteLength > 1000);
  });

  test('API paths that match nothing keep the JSON error envelope', async () => {
    for (const p of ['/api/v2/not-a-route', '/api', '/api/v2/workspaces/x/y/z']) {
      const res = await fetch(`${srv.url}${p}`);
      assert.equal(res.status, 404, p);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, p);
      const body = (await res.json()) as { message: string; detail?: string };
      assert.equal(body.message, 'Route not found.', p);
    }
    const post = await fetch(`${srv.url}/workspaces`, { method: 'POST' });
    assert.equal(post.status, 404);
    assert.equal(((await post.json()) as { message: string }).message, 'Route not found.');
  });

  test('a missing asset is a 404, not the app', async () => {
    const res = await fetch(`${srv.url}/assets/does-not-exist.js`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  });

  test('paths cannot climb out of the web root', async () => {
    for (const p of ['/../package.json', '/..%2f..%2fpackage.json', '/assets/..%2f..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json']) {
      const res = await rawGet(srv.url, p);
      assert.ok(!res.body.includes('"devDependencies"'), `${p} leaked package.json`);
    }
  });

  test('the API itself is unaffected', async () => {
    const res = await fetch(`${srv.url}/api/v2/buildinfo`);
    assert.equal(res.status, 200);
    assert.ok(((await res.json()) as { version: string }).version);
  });
});

describe('the dashboard route without a build', () => {
  test('answers pages with a page that says how to build it, and API misses with the envelope', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'kiln-web-'));
    const app = Fastify();
    app.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: 'Route not found.' }));
    await webRoutes(app, { root: empty });
    try {
      const page = await app.inject({ method: 'GET', url: '/workspaces' });
      assert.equal(page.statusCode, 503);
      assert.match(page.body, /npm run build/);
      const api = await app.inject({ method: 'GET', url: '/api/v2/nothing' });
      assert.equal(api.statusCode, 404);
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
