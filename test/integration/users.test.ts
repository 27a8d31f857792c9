import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { isSdkError } from '../../src/sdk/errors.js';
import { KilnClient } from '../../src/sdk/client.js';
import { startTestServer, type TestServer } from '../harness/server.js';

async function expectError(p: Promise<unknown>, status: number, message?: string | RegExp) {
  try {
    await p;
  } catch (e) {
    assert.ok(isSdkError(e), `expected an SdkError, got ${String(e)}`);
    assert.equal(e.status, status, `status: ${JSON.stringify(e.response)}`);
    assert.equal(typeof e.response.message, 'string');
    if (typeof message === 'string') assert.equal(e.response.message, message);
    else if (message) assert.match(e.response.message, message);
    return e;
  }
  assert.fail(`expected ${status}, got success`);
}

describe('users and sessions', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
  });
  after(async () => srv.close());

  it('creates the first user once, then answers 409', async () => {
    assert.equal(await srv.client.hasFirstUser(), false);
    const owner = await srv.createFirstUser();
    assert.equal(await srv.client.hasFirstUser(), true);
    await expectError(srv.client.createFirstUser({ email: 'x@example.com', username: 'x', password: 'password-1' }), 409);
    const me = await owner.client.me();
    assert.equal(me.id, owner.userId);
    assert.deepEqual(me.roles.map((r) => r.name), ['owner']);
    assert.deepEqual(me.organization_ids, [owner.organizationId]);
    const org = await owner.client.organization(owner.organizationId);
    assert.equal(org.id, owner.organizationId);
  });

  it('rejects a wrong password or email with one generic 401', async () => {
    const c = new KilnClient(srv.url);
    const a = await expectError(c.login('owner1@example.com', 'wrong-password'), 401, 'Incorrect email or password.');
    const b = await expectError(c.login('nobody@example.com', 'wrong-password'), 401, 'Incorrect email or password.');
    assert.deepEqual(a.response, b.response);
  });
});
