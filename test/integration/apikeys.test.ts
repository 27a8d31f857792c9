import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { serverConfigFromArgs } from '../../src/cli/commands/server.js';
import { ManualClock } from '../../src/lib/clock.js';
import { KilnClient } from '../../src/sdk/client.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';

import { assertEnvelope, request, SIGNED_OUT } from './envelope.js';

const DAY = 24 * 3600_000;

interface KeyRow {
  id: string;
  hashed_secret: Buffer;
  login_type: string;
  lifetime_seconds: number;
  expires_at: Date;
  last_used: Date;
  created_at: Date;
}

describe('API keys', () => {
  const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let db: pg.Client;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0, clock });
    owner = await srv.createFirstUser();
    db = new pg.Client({ connectionString: srv.db.url });
    await db.connect();
  });
  after(async () => {
    await db.end();
    await srv.close();
  });

  const keyRow = async (token: string): Promise<KeyRow | undefined> =>
    (await db.query<KeyRow>('SELECT * FROM api_keys WHERE id = $1', [token.slice(0, 10)])).rows[0];
  const login = async (): Promise<string> => {
    const c = new KilnClient(srv.url);
    return (await c.login(owner.email, owner.password)).session_token;
  };
  /** A fresh owner session: the clock moves in these tests, so the harness's first session expires. */
  const ownerClient = async (): Promise<KilnClient> => {
    const c = new KilnClient(srv.url);
    await c.login(owner.email, owner.password);
    return c;
  };
  const me = (headers: Record<string, string>, query = '') => request(srv.url, 'GET', `/api/v2/users/me${query}`, { headers });

  it('reads the token from the cookie, the query, Coder-Session-Token and Authorization: Bearer', async () => {
    const token = await login();
    for (const [name, res] of [
      ['cookie', await me({ cookie: `other=1; coder_session_token=${token}` })],
      ['query', await me({}, `?coder_session_token=${encodeURIComponent(token)}`)],
      ['header', await me({ 'Coder-Session-Token': token })],
      ['bearer', await me({ authorization: `Bearer ${token}` })],
    ] as const) {
      assert.equal(res.status, 200, `${name}: ${res.text}`);
      assert.equal((res.body as { id: string }).id, owner.userId, name);
    }
  });

  it('takes the first place that has a token: cookie, then query, then header, then bearer', async () => {
    const token = await login();
    const bad = 'aaaaaaaaaa-bbbbbbbbbbbbbbbbbbbbbb';
    assert.equal((await me({ cookie: `coder_session_token=${token}`, 'Coder-Session-Token': bad, authorization: `Bearer ${bad}` }, `?coder_session_token=${bad}`)).status, 200);
    assert.equal((await me({ cookie: `coder_session_token=${bad}`, 'Coder-Session-Token': token })).status, 401);
    assert.equal((await me({ 'Coder-Session-Token': token }, `?coder_session_token=${bad}`)).status, 401);
    assert.equal((await me({ 'Coder-Session-Token': bad, authorization: `Bearer ${token}` })).status, 401);
    assert.equal((await me({ 'Coder-Session-Token': token, authorization: `Bearer ${bad}` })).status, 200);
  });

  it('answers 401 with the reference detail for a missing, malformed, unknown or wrong token', async () => {
    const token = await login();
    const [id, secret] = token.split('-') as [string, string];
    const cases: [Record<string, string>, string | RegExp][] = [
      [{}, 'Cookie "coder_session_token" or query parameter must be provided.'],
      [{ authorization: 'Basic abc' }, 'Cookie "coder_session_token" or query parameter must be provided.'],
      [{ 'Coder-Session-Token': 'no-dash-here-at-all' }, /^Invalid API key format: /],
      [{ 'Coder-Session-Token': 'nodash' }, /^Invalid API key format: /],
      [{ 'Coder-Session-Token': `${id}x-${secret}` }, /^Invalid API key format: /],
      [{ 'Coder-Session-Token': `${id}-${secret}x` }, /^Invalid API key format: /],
      [{ 'Coder-Session-Token': `zzzzzzzzzz-${secret}` }, 'API key is invalid.'],
      [{ 'Coder-Session-Token': `${id}-${'x'.repeat(22)}` }, 'API key secret is invalid.'],
    ];
    for (const [headers, detail] of cases) {
      const env = assertEnvelope(await me(headers), 401, SIGNED_OUT);
      if (typeof detail === 'string') assert.equal(env.detail, detail, JSON.stringify(headers));
      else assert.match(env.detail ?? '', detail, JSON.stringify(headers));
    }
  });

  it('stores only sha256 of the secret', async () => {
    const token = await login();
    const [id, secret] = token.split('-') as [string, string];
    const row = await keyRow(token);
    assert.ok(row);
    assert.equal(row.id, id);
    assert.deepEqual(row.hashed_secret, createHash('sha256').update(secret).digest());
    const all = JSON.stringify((await db.query('SELECT * FROM api_keys')).rows);
    assert.ok(!all.includes(secret), 'the secret itself is never stored');
  });

  it('expires a session key after the session duration (24 h by default)', async () => {
    const token = await login();
    const row = await keyRow(token);
    assert.ok(row);
    assert.equal(row.login_type, 'password');
    assert.equal(row.lifetime_seconds, DAY / 1000);
    assert.equal(row.expires_at.getTime() - row.created_at.getTime(), DAY);

    clock.advance(DAY - 1000);
    assert.equal((await me({ 'Coder-Session-Token': token })).status, 200, 'still valid just before expiry');
    clock.advance(1000);
    const env = assertEnvelope(await me({ 'Coder-Session-Token': token }), 401, SIGNED_OUT);
    assert.equal(env.detail, `API key expired at ${row.expires_at.toISOString().replace('.000Z', 'Z')}.`);
  });

  it('gives keys from POST /users/{user}/keys a longer lifetime than a session', async () => {
    const { key } = await (await ownerClient()).createAPIKey('me');
    const row = await keyRow(key);
    assert.ok(row);
    assert.equal(row.login_type, 'token');
    assert.ok(row.expires_at.getTime() - row.created_at.getTime() > DAY);
    clock.advance(DAY + 1000);
    assert.equal((await me({ 'Coder-Session-Token': key })).status, 200);
  });

  it('writes last_used at most once a minute', async () => {
    const token = await login();
    const created = (await keyRow(token))?.last_used.getTime();
    assert.ok(created);
    const lastUsed = async () => {
      assert.equal((await me({ 'Coder-Session-Token': token })).status, 200);
      return (await keyRow(token))?.last_used.getTime();
    };
    assert.equal(await lastUsed(), created, 'a use right after login writes nothing');
    clock.advance(30_000);
    assert.equal(await lastUsed(), created, '30 s later: still nothing');
    clock.advance(31_000);
    const t1 = clock.now().getTime();
    assert.equal(await lastUsed(), t1, '61 s after the last write: written');
    const seen = (await db.query<{ last_seen_at: Date }>('SELECT last_seen_at FROM users WHERE id = $1', [owner.userId])).rows[0];
    assert.equal(seen?.last_seen_at.getTime(), t1, 'the user is seen at the same time');
    clock.advance(59_000);
    assert.equal(await lastUsed(), t1, '59 s after the last write: nothing');
    clock.advance(2_000);
    assert.equal(await lastUsed(), clock.now().getTime());
  });

  it('refuses the keys of a suspended user with 401', async () => {
    const user = await srv.createUser(await ownerClient());
    await db.query(`UPDATE users SET status = 'suspended' WHERE id = $1`, [user.userId]);
    const env = assertEnvelope(await me({ 'Coder-Session-Token': user.client.token as string }), 401, SIGNED_OUT);
    assert.match(env.detail ?? '', /^User is not active \(status = "suspended"\)/);
    const res = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: user.email, password: user.password } });
    assertEnvelope(res, 401);
  });
});

describe('session duration flag', () => {
  it('defaults to 24 h and reads --session-duration or KILN_SESSION_DURATION', () => {
    const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const cfg = serverConfigFromArgs(argv, env);
      assert.notEqual(cfg, 'help');
      return cfg === 'help' ? 0 : cfg.sessionDurationMs;
    };
    assert.equal(parse([]), DAY);
    assert.equal(parse(['--session-duration', '2h']), 2 * 3600_000);
    assert.equal(parse([], { KILN_SESSION_DURATION: '90m' }), 90 * 60_000);
    assert.throws(() => parse(['--session-duration', 'soon']), /--session-duration/);
  });
});
