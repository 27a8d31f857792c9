import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { checkEnvelope } from '../integration/envelope.js';

/**
 * Property-based fuzzing of every route in kiln's own OpenAPI document: path parameters, query strings and bodies are
 * generated from the document's schemas, then mangled (wrong types, NUL bytes, lone surrogates, huge strings, deep
 * nesting, broken JSON). The properties: never a 5xx; every non-2xx answer is the JSON envelope; the server still
 * serves afterwards. Bounded: a fixed number of requests per route and seed. Fixed seeds make failures reproducible;
 * one random seed per run widens the net and is printed when it fails.
 */

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  query: { name: string; schema: Schema }[];
  body?: Schema;
}
type Schema = { type?: string | string[]; format?: string; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema; [k: string]: unknown };

const RUNS_PER_ROUTE = Number(process.env.KILN_FUZZ_RUNS ?? 12);
const FIXED_SEEDS = [20261201, 7];
const RANDOM_SEED = Number(process.env.KILN_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

const NASTY_STRINGS = ['', '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', 'x'.repeat(70_000), '../../etc/passwd', "'; DROP TABLE users;--", '😀', ' ', 'me', '0', '-1', 'true', 'null', '%00', '%ZZ'];

/** Percent-encodes UTF-8 bytes one by one (encodeURIComponent throws on lone surrogates; the server must not). */
function pctEncode(s: string): string {
  if (s === '%ZZ' || s === '%00') return s;
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');
}

function arbString(s: Schema, ids: string[]): fc.Arbitrary<string> {
  const base = s.format === 'uuid' ? fc.oneof(fc.constantFrom(...ids), fc.uuid()) : s.enum ? fc.constantFrom(...(s.enum as string[])) : fc.string({ maxLength: 40 });
  return fc.oneof({ weight: 4, arbitrary: base }, { weight: 1, arbitrary: fc.constantFrom(...NASTY_STRINGS) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) });
}

function arbFromSchema(s: Schema | undefined, ids: string[], depth = 0): fc.Arbitrary<unknown> {
  if (!s || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  let a: fc.Arbitrary<unknown>;
  if (s.enum) a = fc.constantFrom(...s.enum);
  else if (type === 'string') a = arbString(s, ids);
  else if (type === 'integer') a = fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.constantFrom(2 ** 53, -(2 ** 31), 0));
  else if (type === 'number') a = fc.oneof(fc.double(), fc.integer());
  else if (type === 'boolean') a = fc.boolean();
  else if (type === 'array') a = fc.array(arbFromSchema(s.items, ids, depth + 1), { maxLength: 4 });
  else if (type === 'object' || s.properties) {
    const props = s.properties ?? {};
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(props)) model[k] = arbFromSchema(v, ids, depth + 1);
    a = fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
  } else a = fc.jsonValue({ maxDepth: 2 });
  // Sometimes the wrong type altogether.
  return fc.oneof({ weight: 8, arbitrary: a }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
}

/** Bodies no schema describes: the parser and the hooks before validation must still answer with the envelope. */
const RAW_BODIES = fc.constantFrom(
  '['.repeat(5000) + ']'.repeat(5000),
  '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
  '{"email":"a\\u0000b@example.com","password":"x"}',
  '{"name":"\\ud800"}',
  '{"\\u0000":1}',
  '{',
  'null',
  '"just a string"',
  '\u0000\u0001\u0002',
  '[]',
);

function operations(doc: { paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema?: Schema }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>> }): Operation[] {
  const out: Operation[] = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      out.push({
        method: m.toUpperCase(),
        path: p,
        pathParams: params.filter((x) => x.in === 'path').map((x) => x.name),
        query: params.filter((x) => x.in === 'query').map((x) => ({ name: x.name, schema: x.schema ?? {} })),
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return out;
}

describe('API fuzz (every route of the OpenAPI document)', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let ids: string[];
  let ops: Operation[];
  let requests = 0;

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    const { template, version } = await createEchoTemplate(owner.client, owner.organizationId);
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    const build = await waitForBuild(owner.client, ws.latest_build.id);
    ids = [owner.userId, owner.organizationId, template.id, version.id, ws.id, build.id, build.job.id];
    const res = await fetch(`${srv.url}/api/v2/openapi.json`);
    ops = operations((await res.json()) as Parameters<typeof operations>[0]);
    assert.ok(ops.length >= 30, `the document lists ${ops.length} operations`);
  });
  after(async () => {
    if (srv) await srv.close();
  });

  /** The token for a request: the owner's, none, or junk. A logout gets a throwaway session so the owner's survives. */
  async function tokenFor(op: Operation, pick: number): Promise<string | undefined> {
    if (op.path.endsWith('/users/logout')) {
      const c = await fetch(`${srv.url}/api/v2/users/login`, { method: 'POST', body: JSON.stringify({ email: owner.email, password: owner.password }) });
      return ((await c.json()) as { session_token?: string }).session_token;
    }
    if (pick === 0) return undefined;
    if (pick === 1) return 'not-a-token';
    return owner.client.token;
  }

  type GeneratedRequest = ReturnType<typeof requestArb> extends fc.Arbitrary<infer T> ? T : never;
  const requestArb = (op: Operation) =>
    fc.record({
      pathValues: fc.tuple(...op.pathParams.map(() => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ids, 'me', owner.username) }, { weight: 1, arbitrary: arbString({}, ids) }))),
      query: fc.record(Object.fromEntries(op.query.map((q) => [q.name, arbFromSchema(q.schema, ids).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))])), { requiredKeys: [] }),
      extraQuery: fc.option(fc.constantFrom('limit=-1', 'limit=99999999', 'offset=x', 'after_id=%00', 'q=%ED%A0%80', 'follow=true'), { nil: undefined }),
      body: op.body ? fc.oneof({ weight: 6, arbitrary: arbFromSchema(op.body, ids).map((v) => JSON.stringify(v)) }, { weight: 1, arbitrary: RAW_BODIES }) : fc.option(RAW_BODIES, { nil: undefined }),
      auth: fc.constantFrom(0, 1, 2, 2, 2, 2),
    });

  async function send(op: Operation, r: GeneratedRequest): Promise<void> {
    let p = op.path;
    op.pathParams.forEach((name, i) => (p = p.replace(`{${name}}`, pctEncode(String(r.pathValues[i] ?? '')) || 'x')));
    const qs = [...Object.entries(r.query).map(([k, v]) => `${k}=${pctEncode(v as string)}`), ...(r.extraQuery ? [r.extraQuery] : [])].join('&');
    const token = await tokenFor(op, r.auth);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers['Coder-Session-Token'] = token;
    const hasBody = !['GET', 'HEAD'].includes(op.method) && r.body !== undefined;
    // A bound on every request: a server that hangs fails the property instead of the run.
    const res = await fetch(`${srv.url}${p}${qs ? `?${qs}` : ''}`, { method: op.method, headers, body: hasBody ? r.body : undefined, signal: AbortSignal.timeout(30_000) });
    requests++;
    if (res.status === 200 && /^text\/event-stream/.test(res.headers.get('content-type') ?? '')) {
      // A stream (the workspace watch) never ends by itself: its answer was a success; hang up.
      await res.body?.cancel();
      return;
    }
    const text = await res.text();
    const what = `${op.method} ${p}${qs ? `?${qs.slice(0, 200)}` : ''} → ${res.status} ${text.slice(0, 300)}`;
    assert.ok(res.status < 500, `5xx: ${what}`);
    if (res.status >= 300) {
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `not JSON: ${what}`);
      checkEnvelope(JSON.parse(text), text);
    }
  }

  for (const seed of [...FIXED_SEEDS, RANDOM_SEED]) {
    it(`no 5xx and the envelope on every non-2xx, seed ${seed}${seed === RANDOM_SEED ? ' (random; rerun with KILN_FUZZ_SEED)' : ''}`, async () => {
      for (const op of ops) {
        try {
          await fc.assert(
            fc.asyncProperty(requestArb(op), (r) => send(op, r)),
            { seed: seed + ops.indexOf(op), numRuns: RUNS_PER_ROUTE, endOnFailure: true },
          );
        } catch (e) {
          throw new Error(`fuzz failed on ${op.method} ${op.path} with seed ${seed} (KILN_FUZZ_SEED=${seed}):\n${(e as Error).message}`);
        }
      }
    });
  }

  it('leaves the server alive and the owner able to work', async () => {
    assert.ok(requests >= ops.length * RUNS_PER_ROUTE, `sent ${requests} requests`);
    const health = await fetch(`${srv.url}/healthz`);
    assert.equal(health.status, 200);
    const me = await owner.client.me();
    assert.equal(me.id, owner.userId);
  });
});
