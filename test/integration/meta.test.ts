import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';

import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';

import { request } from './envelope.js';

interface Operation {
  parameters?: { in: string; name: string; required?: boolean }[];
  responses?: Record<string, unknown>;
  security?: unknown[];
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

/** The API routes of the foundation, as OpenAPI names them. */
const ROUTES: [string, string][] = [
  ['get', '/api/v2/buildinfo'],
  ['get', '/api/v2/users/first'],
  ['post', '/api/v2/users/first'],
  ['post', '/api/v2/users/login'],
  ['post', '/api/v2/users/logout'],
  ['post', '/api/v2/users'],
  ['get', '/api/v2/users/{user}'],
  ['get', '/api/v2/users/{user}/organizations'],
  ['post', '/api/v2/users/{user}/keys'],
  ['get', '/api/v2/organizations/{organization}'],
  ['post', '/api/v2/files'],
  ['get', '/api/v2/files/{fileID}'],
];

describe('meta endpoints', () => {
  let srv: TestServer;
  let owner: TestUser;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    owner = await srv.createFirstUser();
  });
  after(async () => srv.close());

  it('GET /healthz answers OK without a token', async () => {
    const res = await request(srv.url, 'GET', '/healthz');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'OK');
  });

  it('GET /api/v2/buildinfo gives {version, external_url}', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const res = await request(srv.url, 'GET', '/api/v2/buildinfo');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { version: pkg.version, external_url: srv.url });
    assert.deepEqual(await owner.client.buildInfo(), res.body);
  });

  it('buildinfo reports the configured access URL', async () => {
    const other = await startTestServer({ provisionerDaemons: 0, config: { accessUrl: 'https://kiln.example.com' } });
    try {
      assert.equal((await other.client.buildInfo()).external_url, 'https://kiln.example.com');
    } finally {
      await other.close();
    }
  });

  it('GET /metrics: Prometheus text with request counts and latency by route, and pool gauges', async () => {
    await owner.client.me();
    await request(srv.url, 'GET', '/api/v2/no-such-route');
    const res = await request(srv.url, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const lines = res.text.split('\n');
    const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `no line matches ${re}`);
    has(/^# TYPE kiln_http_requests_total counter$/);
    has(/^kiln_http_requests_total\{method="GET",route="\/api\/v2\/users\/:user",code="200"\} [1-9]\d*$/);
    // Unknown paths share one label, so a scanner cannot blow up the series count.
    has(/^kiln_http_requests_total\{method="GET",route="unmatched",code="404"\} [1-9]\d*$/);
    assert.ok(!res.text.includes('no-such-route'));
    has(/^# TYPE kiln_http_request_duration_seconds histogram$/);
    has(/^kiln_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/v2\/users\/:user"\} [1-9]\d*$/);
    has(/^kiln_http_request_duration_seconds_sum\{method="GET",route="\/api\/v2\/users\/:user"\} [\d.e-]+$/);
    has(/^kiln_http_request_duration_seconds_count\{method="GET",route="\/api\/v2\/users\/:user"\} [1-9]\d*$/);
    for (const g of ['kiln_db_pool_connections', 'kiln_db_pool_idle_connections', 'kiln_db_pool_waiting_requests']) {
      has(new RegExp(`^# TYPE ${g} gauge$`));
      has(new RegExp(`^${g} \\d+$`));
    }
    has(/^kiln_process_/);
  });

  it('GET /api/v2/openapi.json is an OpenAPI 3 document listing every route with its parameters', async () => {
    const res = await request(srv.url, 'GET', '/api/v2/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const doc = res.body as OpenApiDoc;
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.ok(doc.components?.securitySchemes?.CoderSessionToken);
    for (const [method, path] of ROUTES) assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is missing`);
    for (const [path, ops] of Object.entries(doc.paths)) {
      assert.ok(path.startsWith('/'), path);
      assert.doesNotMatch(path, /:/, `${path} uses Fastify's :param syntax`);
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'].includes(method), `${path}: ${method}`);
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
        assert.deepEqual(declared.map((p) => p.name).sort(), [...names].sort(), `path parameters of ${method} ${path}`);
        for (const p of declared) assert.equal(p.required, true);
        const codes = Object.keys(op.responses ?? {});
        assert.ok(codes.length > 0, `${method} ${path} has no responses`);
        for (const c of codes) assert.match(c, /^([1-5]\d\d|[1-5]XX|default)$/, `${method} ${path}: response key ${c}`);
      }
    }
    // Routes that need no token say so.
    assert.deepEqual(doc.paths['/api/v2/users/login']?.post?.security, []);
    assert.equal(doc.paths['/api/v2/users/me'], undefined);
  });
});
