import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { apiKeyCacheOf } from '../../src/api/middleware/apiKey.js';
import { ApiKeyCache, DEFAULT_API_KEY_CACHE_ENTRIES } from '../../src/api/middleware/apiKeyCache.js';
import { MemoryPubsub } from '../../src/db/pubsub.js';
import type { ApiKeyWithUserRow } from '../../src/db/queries/apiKeys.js';
import { createLogger } from '../../src/lib/logger.js';
import { KilnClient } from '../../src/sdk/client.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

import { assertEnvelope, request, SIGNED_OUT } from './envelope.js';

/** SQL statements the server counted for one route so far (kiln_http_request_sql_statements_sum). */
async function statementsSum(srv: TestServer, route: string): Promise<number> {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`kiln_http_request_sql_statements_sum{method="GET",route="${route}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('API-key cache, two replicas on one database', () => {
  let a: TestServer;
  let b: TestServer;
  let owner: TestUser & { organizationId: string };
  let db: pg.Client;
  before(async () => {
    a = await startTestServer({ provisionerDaemons: 0 });
    b = await startTestServer({ provisionerDaemons: 0, database: a.db });
    owner = await a.createFirstUser();
    db = new pg.Client({ connectionString: a.db.url });
    await db.connect();
  });
  after(async () => {
    await db.end();
    await b.close();
    await a.close();
  });

  /**
   * A change to keys or users made in SQL (kiln has no route for these yet; an operator's SQL is the hardest case: no
   * kiln code runs at the change). Returns once both replicas received the trigger's notification: a replica applies a
   * change when that arrives, normally milliseconds after the commit; a kiln route that changes a key waits for its
   * own replica's copy before answering (see the logout test, which waits for nothing).
   */
  const change = async (sql: string, params: unknown[], payload: string) => {
    const echoes = [a, b].map((srv) => {
      const cache = apiKeyCacheOf(srv.server.api.ctx);
      assert.ok(cache?.live);
      return cache.echo(payload, 10_000);
    });
    await db.query(sql, params);
    await Promise.all(echoes);
  };
  const me = (srv: TestServer, token: string) => request(srv.url, 'GET', '/api/v2/users/me', { token });
  /** Uses the token on both replicas, so both hold it in memory before the change under test. */
  const warm = async (token: string) => {
    for (const srv of [a, b]) for (let i = 0; i < 2; i++) assert.equal((await me(srv, token)).status, 200);
  };
  const session = async (u: { email: string; password: string }) => (await new KilnClient(a.url).login(u.email, u.password)).session_token;

  it('serves a known key without a statement: the first request reads the key, the next ones do not', async () => {
    const route = '/api/v2/users/:user';
    for (const srv of [a, b]) {
      const token = await session(owner);
      const cost = async () => {
        const before = await statementsSum(srv, route);
        assert.equal((await me(srv, token)).status, 200);
        return (await statementsSum(srv, route)) - before;
      };
      const first = await cost();
      // GET /users/me itself reads the user and their memberships (2); the first use of a key adds its read.
      assert.equal(first, 3, 'first use: the key, then the route');
      assert.equal(await cost(), 2, 'next use: the route alone');
      assert.equal(await cost(), 2);
    }
  });

  it('a logged-out key is refused by the next request on the replica that logged it out, and on the other once notified', async () => {
    const token = await session(owner);
    await warm(token);
    const cacheB = apiKeyCacheOf(b.server.api.ctx);
    assert.ok(cacheB?.live);
    const notifiedB = cacheB.echo(`k:${token.slice(0, 10)}`, 10_000);
    assert.equal((await request(a.url, 'POST', '/api/v2/users/logout', { token })).status, 200);
    assert.equal(assertEnvelope(await me(a, token), 401, SIGNED_OUT).detail, 'API key is invalid.');
    await notifiedB;
    assert.equal(assertEnvelope(await me(b, token), 401, SIGNED_OUT).detail, 'API key is invalid.');
  });

  it('a key deleted in the database is refused by the next request on both replicas once they were notified', async () => {
    const token = await session(owner);
    await warm(token);
    await change('DELETE FROM api_keys WHERE id = $1', [token.slice(0, 10)], `k:${token.slice(0, 10)}`);
    for (const srv of [b, a]) assert.equal(assertEnvelope(await me(srv, token), 401, SIGNED_OUT).detail, 'API key is invalid.');
  });

  it('a suspended user is refused by the next request on both replicas once notified, and let in again once reactivated', async () => {
    const user = await a.createUser(owner.client);
    const token = user.client.token as string;
    await warm(token);
    await change(`UPDATE users SET status = 'suspended' WHERE id = $1`, [user.userId], `u:${user.userId}`);
    for (const srv of [a, b]) assert.match(assertEnvelope(await me(srv, token), 401, SIGNED_OUT).detail ?? '', /^User is not active \(status = "suspended"\)/);
    await change(`UPDATE users SET status = 'active' WHERE id = $1`, [user.userId], `u:${user.userId}`);
    for (const srv of [b, a]) assert.equal((await me(srv, token)).status, 200);
  });

  it('a role change applies to the next request on both replicas once notified, granted and revoked', async () => {
    const user = await a.createUser(owner.client);
    const token = user.client.token as string;
    await warm(token);
    // Another user's organizations: 404 for a member, 200 for a user admin.
    const orgsOfOwner = (srv: TestServer) => request(srv.url, 'GET', `/api/v2/users/${owner.userId}/organizations`, { token });
    for (const srv of [a, b]) assert.equal((await orgsOfOwner(srv)).status, 404);
    await change(`UPDATE users SET rbac_roles = '{user-admin}' WHERE id = $1`, [user.userId], `u:${user.userId}`);
    for (const srv of [a, b]) assert.equal((await orgsOfOwner(srv)).status, 200);
    await change(`UPDATE users SET rbac_roles = '{}' WHERE id = $1`, [user.userId], `u:${user.userId}`);
    for (const srv of [b, a]) assert.equal((await orgsOfOwner(srv)).status, 404);
  });

  it('serves nothing from memory while the listen connection is down: a change made meanwhile still applies', async () => {
    const user = await a.createUser(owner.client);
    const token = user.client.token as string;
    await warm(token);
    const cache = apiKeyCacheOf(a.server.api.ctx);
    assert.ok(cache);
    await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kiln-pubsub' AND datname = current_database()`);
    // Both replicas lost their listen connection; whatever happens until they are back is not notified to them.
    await waitFor(() => !cache.live, 'replica A noticed the lost listen connection');
    await db.query(`UPDATE users SET status = 'suspended' WHERE id = $1`, [user.userId]);
    assertEnvelope(await me(a, token), 401, SIGNED_OUT);
    await waitFor(() => cache.live, 'replica A listening again');
    assertEnvelope(await me(a, token), 401, SIGNED_OUT);
    await db.query(`UPDATE users SET status = 'active' WHERE id = $1`, [user.userId]);
    await waitFor(async () => (await me(b, token)).status === 200, 'replica B listening again and the user active');
    assert.equal((await me(a, token)).status, 200);
  });
});

describe('API-key cache bounds', () => {
  const row = (id: string, userId = 'u1'): ApiKeyWithUserRow => ({
    id, user_id: userId, hashed_secret: Buffer.alloc(0), login_type: 'password', lifetime_seconds: 1, expires_at: new Date(), last_used: new Date(), created_at: new Date(), updated_at: new Date(), user_username: 'x', user_status: 'active', user_deleted: false, user_rbac_roles: [],
  });

  it(`keeps at most ${DEFAULT_API_KEY_CACHE_ENTRIES.toLocaleString('en-US')} keys by default, the oldest leaving first`, async () => {
    const cache = new ApiKeyCache();
    await cache.start(new MemoryPubsub(), createLogger('silent'));
    try {
      let loads = 0;
      const load = (id: string) => async () => {
        loads++;
        return row(id);
      };
      for (let i = 0; i <= DEFAULT_API_KEY_CACHE_ENTRIES; i++) await cache.get(`k${i}`, load(`k${i}`));
      assert.equal(cache.size, DEFAULT_API_KEY_CACHE_ENTRIES);
      loads = 0;
      await cache.get(`k${DEFAULT_API_KEY_CACHE_ENTRIES}`, load('newest'));
      assert.equal(loads, 0, 'the newest key is still in memory');
      await cache.get('k0', load('k0'));
      assert.equal(loads, 1, 'the oldest key left and is read again');
    } finally {
      cache.stop();
    }
  });
});
