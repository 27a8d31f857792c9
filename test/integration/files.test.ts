import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';

import { assertEnvelope, expectSdkError, NOT_FOUND, request, SIGNED_OUT } from './envelope.js';

const TAR = 'application/x-tar';
const LIMIT = 1024;

describe('files', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  let other: TestUser;
  let templateAdmin: TestUser;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0, overrides: { maxFileBytes: LIMIT } });
    owner = await srv.createFirstUser();
    member = await srv.createUser(owner.client);
    other = await srv.createUser(owner.client);
    templateAdmin = await srv.createUser(owner.client, ['template-admin']);
  });
  after(async () => srv.close());

  const upload = (token: string | undefined, data: Uint8Array, contentType: string | null = TAR) =>
    request(srv.url, 'POST', '/api/v2/files', { token, raw: data, headers: contentType ? { 'Content-Type': contentType } : {} });

  it('accepts only application/x-tar', async () => {
    const data = randomBytes(64);
    for (const ct of ['application/json', 'text/plain', 'application/octet-stream', 'application/x-tarball']) {
      assertEnvelope(await upload(member.client.token, data, ct), 400);
    }
    assertEnvelope(await upload(member.client.token, data, null), 400);
    // Parameters after the media type are fine.
    assert.equal((await upload(member.client.token, data, `${TAR}; charset=binary`)).status, 201);
  });

  it('refuses a body over the limit with 413 and the envelope', async () => {
    const env = assertEnvelope(await upload(member.client.token, randomBytes(LIMIT + 1)), 413, 'Request body is too large.');
    assert.match(env.detail ?? '', new RegExp(`${LIMIT}`));
    assert.equal((await upload(member.client.token, randomBytes(LIMIT))).status, 201, 'exactly the limit is accepted');
  });

  it('refuses an empty body and an anonymous caller', async () => {
    assertEnvelope(await upload(member.client.token, new Uint8Array()), 400);
    assertEnvelope(await upload(undefined, randomBytes(8)), 401, SIGNED_OUT);
  });

  it('is content-addressed per uploader: same bytes 200 + same id, new bytes 201, another user 201 + new id', async () => {
    const data = randomBytes(300);
    const first = await upload(member.client.token, data);
    assert.equal(first.status, 201, first.text);
    const id = (first.body as { hash: string }).hash;
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const again = await upload(member.client.token, data);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { hash: id });

    const changed = Buffer.from(data);
    changed[0] = (changed[0] ?? 0) ^ 1;
    const fresh = await upload(member.client.token, changed);
    assert.equal(fresh.status, 201);
    assert.notEqual((fresh.body as { hash: string }).hash, id);

    const byOther = await upload(other.client.token, data);
    assert.equal(byOther.status, 201);
    assert.notEqual((byOther.body as { hash: string }).hash, id);

    // The SDK sees the same answers.
    assert.deepEqual(await member.client.upload(data), { hash: id });
  });

  it('GET /files/{id} returns the bytes with their content type to the uploader and template admins', async () => {
    const data = randomBytes(500);
    const { hash: id } = await member.client.upload(data);
    for (const c of [member.client, templateAdmin.client, owner.client]) {
      const got = await c.download(id);
      assert.equal(got.contentType, TAR);
      assert.deepEqual(Buffer.from(got.data), data);
    }
  });

  it('GET /files/{id} is 404 for another member, an unknown id, and 400 for a bad UUID', async () => {
    const { hash: id } = await member.client.upload(randomBytes(32));
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/files/${id}`, { token: other.client.token }), 404, NOT_FOUND);
    await expectSdkError(other.client.download(id), 404, NOT_FOUND);
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/files/${randomUUID()}`, { token: member.client.token }), 404, NOT_FOUND);
    const env = assertEnvelope(await request(srv.url, 'GET', '/api/v2/files/not-a-uuid', { token: member.client.token }), 400, 'Invalid UUID "not-a-uuid".');
    assert.deepEqual(env.validations, [{ field: 'fileID', detail: 'Invalid UUID' }]);
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/files/${id}`), 401, SIGNED_OUT);
  });
});
