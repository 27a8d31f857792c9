import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { KilnClient } from '../../src/sdk/client.js';
import type { Organization, User } from '../../src/sdk/types/users.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';

import { assertEnvelope, expectSdkError, NOT_FOUND, request, SIGNED_OUT, TOKEN_RE } from './envelope.js';

describe('first user', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
  });
  after(async () => srv.close());

  it('answers GET 404 before, POST 201 once, GET 200 after, POST again 409', async () => {
    assertEnvelope(await request(srv.url, 'GET', '/api/v2/users/first'), 404, 'The initial user has not been created!');

    const bad = await request(srv.url, 'POST', '/api/v2/users/first', { json: { email: 'nope', username: '-x-', password: 'short' } });
    const env = assertEnvelope(bad, 400, 'Validation failed.');
    assert.deepEqual(env.validations?.map((v) => v.field).sort(), ['email', 'password', 'username']);
    assert.equal((await request(srv.url, 'GET', '/api/v2/users/first')).status, 404, 'a refused first user is not created');

    const created = await request(srv.url, 'POST', '/api/v2/users/first', {
      json: { email: 'first@example.com', username: 'first', password: 'first-password' },
    });
    assert.equal(created.status, 201, created.text);
    const { user_id, organization_id } = created.body as { user_id: string; organization_id: string };
    assert.match(user_id, /^[0-9a-f-]{36}$/);
    assert.match(organization_id, /^[0-9a-f-]{36}$/);

    const got = await request(srv.url, 'GET', '/api/v2/users/first');
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, { message: 'The initial user has already been created!' });

    const again = await request(srv.url, 'POST', '/api/v2/users/first', {
      json: { email: 'second@example.com', username: 'second', password: 'second-password' },
    });
    assertEnvelope(again, 409, 'The initial user has already been created.');

    const c = new KilnClient(srv.url);
    await c.login('first@example.com', 'first-password');
    const me = await c.me();
    assert.equal(me.id, user_id);
    assert.deepEqual(me.roles.map((r) => r.name), ['owner']);
    assert.deepEqual(me.organization_ids, [organization_id]);
    const org = await c.organization(organization_id);
    assert.equal(org.name, 'default');
  });

  it('lets exactly one of several concurrent first users through', async () => {
    const other = await startTestServer({ provisionerDaemons: 0 });
    try {
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          request(other.url, 'POST', '/api/v2/users/first', { json: { email: `race${i}@example.com`, username: `race${i}`, password: 'race-password' } }),
        ),
      );
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) assertEnvelope(r, 409, 'The initial user has already been created.');
    } finally {
      await other.close();
    }
  });
});

describe('login and logout', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    owner = await srv.createFirstUser();
  });
  after(async () => srv.close());

  it('logs in with 201 {session_token} and a session cookie', async () => {
    const res = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: owner.email, password: owner.password } });
    assert.equal(res.status, 201, res.text);
    const token = (res.body as { session_token: string }).session_token;
    assert.match(token, TOKEN_RE);
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^coder_session_token=${token};`));
    assert.match(cookie, /HttpOnly/);
    // Emails match case-insensitively.
    const upper = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: owner.email.toUpperCase(), password: owner.password } });
    assert.equal(upper.status, 201);
  });

  it('answers a wrong password and an unknown email with the same 401', async () => {
    const wrong = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: owner.email, password: 'wrong-password' } });
    const unknown = await request(srv.url, 'POST', '/api/v2/users/login', { json: { email: 'nobody@example.com', password: 'wrong-password' } });
    assertEnvelope(wrong, 401, 'Incorrect email or password.');
    assertEnvelope(unknown, 401, 'Incorrect email or password.');
    assert.equal(wrong.text, unknown.text, 'no user enumeration');
    await expectSdkError(new KilnClient(srv.url).login(owner.email, 'still-wrong'), 401, 'Incorrect email or password.');
  });

  it('rejects a login without email or password with one validation per field', async () => {
    const res = await request(srv.url, 'POST', '/api/v2/users/login', { json: {} });
    const env = assertEnvelope(res, 400, 'Validation failed.');
    assert.deepEqual(env.validations?.map((v) => v.field).sort(), ['email', 'password']);
  });

  it('logout deletes the key: the next call is 401', async () => {
    const c = new KilnClient(srv.url);
    await c.login(owner.email, owner.password);
    const token = c.token as string;
    const out = await request(srv.url, 'POST', '/api/v2/users/logout', { token });
    assert.equal(out.status, 200);
    assert.deepEqual(out.body, { message: 'Logged out!' });
    assert.match(out.headers.get('set-cookie') ?? '', /^coder_session_token=;.*Max-Age=0/);
    const db = new pg.Client({ connectionString: srv.db.url });
    await db.connect();
    try {
      const { rowCount } = await db.query('SELECT 1 FROM api_keys WHERE id = $1', [token.slice(0, 10)]);
      assert.equal(rowCount, 0);
    } finally {
      await db.end();
    }
    const env = assertEnvelope(await request(srv.url, 'GET', '/api/v2/users/me', { token }), 401, SIGNED_OUT);
    assert.equal(env.detail, 'API key is invalid.');
    assertEnvelope(await request(srv.url, 'POST', '/api/v2/users/logout'), 401, SIGNED_OUT);
    // Other sessions of the same user stay valid.
    assert.equal((await owner.client.me()).id, owner.userId);
  });
});

describe('users', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    owner = await srv.createFirstUser();
    member = await srv.createUser(owner.client);
  });
  after(async () => srv.close());

  it('GET /users/{user} finds a user by me, username (any case) and id', async () => {
    const me = await member.client.me();
    assert.equal(me.id, member.userId);
    assert.equal(me.username, member.username);
    assert.equal(me.email, member.email);
    assert.equal(me.status, 'active');
    assert.deepEqual(me.roles, []);
    assert.deepEqual(me.organization_ids, [owner.organizationId]);
    assert.deepEqual(await member.client.user(member.username), me);
    assert.deepEqual(await member.client.user(member.username.toUpperCase()), me);
    assert.deepEqual(await member.client.user(member.userId), me);
    // Any member can read another user.
    assert.equal((await member.client.user(owner.username)).id, owner.userId);
  });

  it('GET /users/{user} of an unknown username or id is 400, as in Coder', async () => {
    for (const u of ['no-such-user', randomUUID()]) {
      const env = assertEnvelope(await request(srv.url, 'GET', `/api/v2/users/${u}`, { token: member.client.token }), 400);
      assert.equal(env.message, '"user" must be an existing uuid or username.');
    }
    assertEnvelope(await request(srv.url, 'GET', '/api/v2/users/me'), 401, SIGNED_OUT);
  });

  it('POST /users: an owner and a user-admin may create users', async () => {
    const created = await request(srv.url, 'POST', '/api/v2/users', {
      token: owner.client.token,
      json: { email: 'made-by-owner@example.com', username: 'made-by-owner', password: 'a-password', roles: ['user-admin'] },
    });
    assert.equal(created.status, 201, created.text);
    const u = created.body as User;
    assert.equal(u.username, 'made-by-owner');
    assert.deepEqual(u.roles, [{ name: 'user-admin', display_name: 'User Admin' }]);
    assert.deepEqual(u.organization_ids, [owner.organizationId]);

    const admin = new KilnClient(srv.url);
    await admin.login('made-by-owner@example.com', 'a-password');
    const byAdmin = await admin.createUser({ email: 'made-by-admin@example.com', username: 'made-by-admin', password: 'a-password' });
    assert.equal(byAdmin.username, 'made-by-admin');
    // A user-admin cannot hand out the owner role.
    await expectSdkError(admin.createUser({ email: 'x@example.com', username: 'would-be-owner', password: 'a-password', roles: ['owner'] }), 403, 'Forbidden.');
  });

  it('POST /users: a member or a template-admin gets 403', async () => {
    const templateAdmin = await srv.createUser(owner.client, ['template-admin']);
    for (const c of [member.client, templateAdmin.client]) {
      const res = await request(srv.url, 'POST', '/api/v2/users', {
        token: c.token,
        json: { email: 'nope@example.com', username: 'nope', password: 'a-password' },
      });
      assertEnvelope(res, 403, 'Forbidden.');
    }
  });

  it('POST /users: a duplicate email or username (any case) is 409', async () => {
    const cases = [
      { email: member.email.toUpperCase(), username: 'fresh-name-1' },
      { email: 'fresh-1@example.com', username: member.username },
      { email: 'fresh-2@example.com', username: member.username.toUpperCase() },
    ];
    for (const c of cases) {
      const res = await request(srv.url, 'POST', '/api/v2/users', { token: owner.client.token, json: { ...c, password: 'a-password' } });
      const env = assertEnvelope(res, 409, 'User already exists.');
      assert.match(env.detail ?? '', c.username === 'fresh-name-1' ? /email/ : /username/);
    }
  });

  it('POST /users: username, email and password rules answer 400 with one validation per field', async () => {
    const post = (body: Record<string, unknown>) => request(srv.url, 'POST', '/api/v2/users', { token: owner.client.token, json: body });
    const ok = { email: 'rules@example.com', username: 'rules', password: 'long-enough' };
    for (const username of ['-lead', 'trail-', 'dou--ble', 'under_score', 'sp ace', 'a'.repeat(33), '']) {
      const env = assertEnvelope(await post({ ...ok, username }), 400, 'Validation failed.');
      assert.deepEqual(env.validations?.map((v) => v.field), ['username'], `username ${JSON.stringify(username)}`);
    }
    for (const email of ['no-at-sign', 'a@b', 'two@@example.com', 'sp ace@example.com']) {
      const env = assertEnvelope(await post({ ...ok, email }), 400, 'Validation failed.');
      assert.deepEqual(env.validations?.map((v) => v.field), ['email'], `email ${email}`);
    }
    const short = assertEnvelope(await post({ ...ok, password: '1234567' }), 400, 'Validation failed.');
    assert.deepEqual(short.validations?.map((v) => v.field), ['password']);
    const all = assertEnvelope(await post({ email: 'x', username: '_', password: 'x' }), 400, 'Validation failed.');
    assert.deepEqual(all.validations?.map((v) => v.field).sort(), ['email', 'password', 'username']);
    const missing = assertEnvelope(await post({}), 400, 'Validation failed.');
    assert.deepEqual(missing.validations?.map((v) => v.field).sort(), ['email', 'password', 'username']);
    const badRole = assertEnvelope(await post({ ...ok, roles: ['emperor'] }), 400, 'Validation failed.');
    assert.deepEqual(badRole.validations?.map((v) => v.field), ['roles.0']);
    // The boundaries are accepted: 32 characters, single dashes, exactly 8 password characters.
    const edge = await post({ email: 'edge@example.com', username: `a-${'b'.repeat(30)}`, password: '12345678' });
    assert.equal(edge.status, 201, edge.text);
  });

  it('GET /users/{user}/organizations lists the default organization; another user\'s is 404 unless admin', async () => {
    const mine = await member.client.userOrganizations('me');
    assert.deepEqual(mine.map((o: Organization) => o.id), [owner.organizationId]);
    assert.deepEqual(await owner.client.userOrganizations(member.username), mine);
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/users/${owner.username}/organizations`, { token: member.client.token }), 404, NOT_FOUND);
    assertEnvelope(await request(srv.url, 'GET', '/api/v2/users/no-such-user/organizations', { token: member.client.token }), 400);
  });

  it('POST /users/{user}/keys returns 201 {key}, a working token of that user', async () => {
    const res = await request(srv.url, 'POST', '/api/v2/users/me/keys', { token: member.client.token });
    assert.equal(res.status, 201, res.text);
    const { key } = res.body as { key: string };
    assert.match(key, TOKEN_RE);
    assert.equal((await member.client.withToken(key).me()).id, member.userId);

    // An owner may make a key for someone else; a member may not.
    const forMember = await owner.client.createAPIKey(member.userId);
    assert.equal((await member.client.withToken(forMember.key).me()).id, member.userId);
    assertEnvelope(await request(srv.url, 'POST', `/api/v2/users/${owner.username}/keys`, { token: member.client.token }), 403, 'Forbidden.');
    assertEnvelope(await request(srv.url, 'POST', '/api/v2/users/me/keys'), 401, SIGNED_OUT);
  });
});

describe('organizations', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    owner = await srv.createFirstUser();
    member = await srv.createUser(owner.client);
  });
  after(async () => srv.close());

  it('GET /organizations/{org} by id or name for a member', async () => {
    const byId = await member.client.organization(owner.organizationId);
    assert.equal(byId.id, owner.organizationId);
    assert.equal(byId.name, 'default');
    assert.match(byId.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.deepEqual(await member.client.organization('default'), byId);
  });

  it('answers 404 for an unknown organization and for one the caller is not a member of', async () => {
    for (const org of [randomUUID(), 'no-such-org']) {
      assertEnvelope(await request(srv.url, 'GET', `/api/v2/organizations/${org}`, { token: member.client.token }), 404, NOT_FOUND);
    }
    const id = randomUUID();
    const db = new pg.Client({ connectionString: srv.db.url });
    await db.connect();
    try {
      await db.query(`INSERT INTO organizations (id, name, created_at, updated_at) VALUES ($1, 'elsewhere', now(), now())`, [id]);
    } finally {
      await db.end();
    }
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/organizations/${id}`, { token: member.client.token }), 404, NOT_FOUND);
    assert.equal((await owner.client.organization(id)).name, 'elsewhere', 'a site owner reads every organization');
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/organizations/${id}`), 401, SIGNED_OUT);
  });
});
