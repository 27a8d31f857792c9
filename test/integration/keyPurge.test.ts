import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { insertApiKey } from '../../src/db/queries/apiKeys.js';
import { generateApiKey } from '../../src/api/auth/apiKeys.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';

describe('expired API keys', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    owner = await srv.createFirstUser();
  });
  after(async () => srv.close());

  it('are purged a day after they expire; live and recently expired keys stay', async () => {
    const pool = srv.server.api.ctx.pool;
    const day = 24 * 3600_000;
    const old = generateApiKey();
    const recent = generateApiKey();
    await insertApiKey(pool, { id: old.id, hashedSecret: old.hashedSecret, userId: owner.userId, loginType: 'password', lifetimeMs: 3600_000, now: new Date(Date.now() - 3 * day) });
    await insertApiKey(pool, { id: recent.id, hashedSecret: recent.hashedSecret, userId: owner.userId, loginType: 'password', lifetimeMs: 3600_000, now: new Date(Date.now() - 2 * 3600_000) });
    // (A pass still running from start-up is joined, not repeated: run until a pass has seen the keys.)
    let deleted = await srv.server.keyPurge.runOnce();
    if (deleted === 0) deleted = await srv.server.keyPurge.runOnce();
    assert.equal(deleted, 1);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM api_keys');
    const ids = rows.map((r) => r.id);
    assert.ok(!ids.includes(old.id), 'the key expired two days ago is gone');
    assert.ok(ids.includes(recent.id), 'a key expired an hour ago is kept (it still answers "expired")');
    assert.equal((await owner.client.me()).id, owner.userId, 'the live session works');
  });
});
