import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { FILE_CACHE_BYTES, FileBytes } from '../../src/api/provisionerdserver/fileBytes.js';
import { insertFile, type Owner } from '../harness/jobFixtures.js';
import { startTestServer, type TestServer } from '../harness/server.js';

/** Template archives handed to daemons are kept in memory, within a bound (docs/security.md). */
describe('template archive bytes in memory', () => {
  let srv: TestServer;
  let owner: Owner;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    const u = await srv.createFirstUser();
    owner = { userId: u.userId, orgId: u.organizationId };
  });
  after(async () => srv.close());

  it(`holds at most its bound (${FILE_CACHE_BYTES / 1024 / 1024} MiB by default), the oldest leaving first; an archive over a quarter of it is not kept`, async () => {
    const ctx = srv.server.api.ctx;
    const cache = new FileBytes(400 * 1024);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await insertFile(ctx.pool, owner, Buffer.alloc(100 * 1024, i)));
    for (const id of ids) assert.equal((await cache.get(ctx, id))?.[0], ids.indexOf(id));
    assert.ok(cache.bytes <= 400 * 1024, `${cache.bytes} bytes held`);
    assert.equal(cache.has(ids[0] as string), false, 'the oldest left');
    assert.equal(cache.has(ids[4] as string), true);
    const big = await insertFile(ctx.pool, owner, Buffer.alloc(101 * 1024, 9));
    assert.equal((await cache.get(ctx, big))?.byteLength, 101 * 1024);
    assert.equal(cache.has(big), false);
    assert.equal(await cache.get(ctx, '00000000-0000-0000-0000-000000000000'), undefined);
  });
});
