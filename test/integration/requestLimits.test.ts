import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { LIMITS } from '../../src/sdk/types/wire.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';

import { assertEnvelope, request } from './envelope.js';

type Schema = Record<string, unknown> & { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: unknown };

/** Every string and array under `schema` that has no bound, named by its path. */
function unbounded(schema: Schema, path: string, out: string[]): string[] {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.includes('string') && schema.maxLength === undefined && schema.format === undefined && schema.enum === undefined) out.push(path);
  if (types.includes('array')) {
    if (schema.maxItems === undefined) out.push(`${path}[]`);
    if (schema.items) unbounded(schema.items, `${path}[]`, out);
  }
  if (types.includes('object')) {
    for (const [k, v] of Object.entries(schema.properties ?? {})) unbounded(v, path ? `${path}.${k}` : k, out);
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      if (schema.maxProperties === undefined) out.push(`${path}{}`);
      unbounded(schema.additionalProperties as Schema, `${path}{*}`, out);
    }
  }
  return out;
}

describe('request size limits', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    owner = await srv.createFirstUser();
  });
  after(async () => srv.close());

  it('every string, array and map of every request body in the OpenAPI document has a bound', async () => {
    const res = await request(srv.url, 'GET', '/api/v2/openapi.json');
    const doc = res.body as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>> };
    const problems: string[] = [];
    let bodies = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const media of Object.values(op.requestBody?.content ?? {})) {
          if (!media.schema) continue;
          bodies++;
          for (const field of unbounded(media.schema, '', [])) problems.push(`${method.toUpperCase()} ${path}: ${field || '(body)'}`);
        }
      }
    }
    assert.ok(bodies >= 10, `only ${bodies} request bodies found`);
    assert.deepEqual(problems, []);
  });

  it('an over-long name answers 400 with a "max" validation for the field', async () => {
    const token = owner.client.token as string;
    const name = 'a'.repeat(LIMITS.name + 1);
    const res = await request(srv.url, 'POST', '/api/v2/users', { token, json: { email: 'x@example.com', username: name, password: 'password123' } });
    const env = assertEnvelope(res, 400, 'Validation failed.');
    assert.deepEqual(env.validations?.map((v) => v.field), ['username']);
    assert.match(env.validations?.[0]?.detail ?? '', /^Validation failed for tag "max"/);
  });

  it('an over-long description and an over-full array answer 400 before the handler looks at them', async () => {
    const token = owner.client.token as string;
    const zero = '00000000-0000-0000-0000-000000000000';
    const tpl = await request(srv.url, 'POST', `/api/v2/organizations/${owner.organizationId}/templates`, {
      token,
      json: { name: 'ok', template_version_id: zero, description: 'd'.repeat(LIMITS.description + 1) },
    });
    assert.deepEqual(assertEnvelope(tpl, 400, 'Validation failed.').validations?.map((v) => v.field), ['description']);

    const params = Array.from({ length: LIMITS.items + 1 }, (_, i) => ({ name: `p${i}`, source_value: 'v', source_scheme: 'data', destination_scheme: 'provisioner_variable' }));
    const build = await request(srv.url, 'POST', `/api/v2/workspaces/${zero}/builds`, { token, json: { transition: 'start', parameter_values: params } });
    assert.deepEqual(assertEnvelope(build, 400, 'Validation failed.').validations?.map((v) => v.field), ['parameter_values']);

    // At the bound itself the body passes validation and reaches the handler (here: an unknown workspace).
    const atBound = await request(srv.url, 'POST', `/api/v2/workspaces/${zero}/builds`, { token, json: { transition: 'start', parameter_values: params.slice(0, LIMITS.items) } });
    assert.notEqual(atBound.status, 400);
  });
});
