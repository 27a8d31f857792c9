import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import Fastify, { type FastifyInstance } from 'fastify';

import { installResponseCheck } from '../../src/api/http/responseCheck.js';
import { ProvisionerJobLog } from '../../src/sdk/types/provisionerJobs.js';

/**
 * The guard every test server runs (`checkResponses`): a converter's field the schema lacks must fail, not vanish in
 * serialization. Here on a bare Fastify app with one of the SDK's schemas, so the failure modes are explicit.
 */
describe('response schema check', () => {
  let app: FastifyInstance;
  const line = { id: 1, created_at: '2026-01-01T00:00:00Z', log_source: 'provisioner', log_level: 'info', stage: 's', output: 'o' };
  before(async () => {
    app = Fastify();
    installResponseCheck(app);
    app.get('/ok', { schema: { response: { 200: ProvisionerJobLog } } }, async () => line);
    app.get('/extra', { schema: { response: { 200: ProvisionerJobLog } } }, async () => ({ ...line, added_by_converter: true }));
    app.get('/missing', { schema: { response: { 200: ProvisionerJobLog } } }, async () => ({ ...line, stage: undefined }));
    await app.ready();
  });
  after(async () => app.close());

  it('passes a response that matches its schema', async () => {
    const res = await app.inject({ method: 'GET', url: '/ok' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), line);
  });

  it('fails a response with a field the schema lacks, naming it', async () => {
    const res = await app.inject({ method: 'GET', url: '/extra' });
    assert.equal(res.statusCode, 500);
    assert.match(res.json<{ message: string }>().message, /additionalProperty.*added_by_converter/);
  });

  it('fails a response without a required field', async () => {
    const res = await app.inject({ method: 'GET', url: '/missing' });
    assert.equal(res.statusCode, 500);
    assert.match(res.json<{ message: string }>().message, /missingProperty.*stage/);
  });
});
