import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { MemoryPubsub, PgPubsub, type Subscriber } from '../../src/db/pubsub.js';
import { createTestDatabase, type TestDatabase } from '../harness/db.js';

import { waitFor } from './envelope.js';

/** A subscriber that records what it gets. */
class Recorder implements Subscriber {
  messages: string[] = [];
  resets = 0;
  message(payload: string): void {
    this.messages.push(payload);
  }
  reset(): void {
    this.resets++;
  }
}

describe('PgPubsub', () => {
  let db: TestDatabase;
  // One publishing connection: notifications it sends arrive in the order it sent them.
  let publisher: pg.Client;
  let admin: pg.Client;
  const open: PgPubsub[] = [];
  const newPubsub = () => {
    const ps = new PgPubsub(db.url, publisher);
    open.push(ps);
    return ps;
  };
  before(async () => {
    db = await createTestDatabase();
    publisher = new pg.Client({ connectionString: db.url });
    await publisher.connect();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  after(async () => {
    for (const ps of open) await ps.close();
    await publisher.end();
    await admin.end();
    await db.drop();
  });

  it('delivers a publish to every subscriber of the channel, and to no other channel', async () => {
    const ps = newPubsub();
    const a = new Recorder();
    const b = new Recorder();
    const other = new Recorder();
    // Channel names as the build engine makes them: dashes and colons need quoting.
    const channel = 'provisioner-log-logs:3f0c5f5e-2d7b-4a51-9d4e-6f1f0f3b6a11';
    await ps.subscribe(channel, a);
    await ps.subscribe(channel, b);
    await ps.subscribe('workspace:other', other);
    await ps.publish(channel, '{"created_after":7}');
    await ps.publish(channel);
    await waitFor(() => a.messages.length === 2 && b.messages.length === 2, 'both subscribers to get both messages');
    assert.deepEqual(a.messages, ['{"created_after":7}', '']);
    assert.deepEqual(b.messages, a.messages);
    // A marker on the other channel, published after: once it arrives, anything misrouted would have arrived too.
    await ps.publish('workspace:other', 'marker');
    await waitFor(() => other.messages.length === 1, 'the marker');
    assert.deepEqual(other.messages, ['marker']);
    assert.equal(a.messages.length, 2);
  });

  it('resolves a second subscribe to a channel only once its LISTEN is active', async () => {
    const ps = newPubsub();
    const first = new Recorder();
    const second = new Recorder();
    const pending = ps.subscribe('late-joiner', first);
    await ps.subscribe('late-joiner', second);
    await ps.publish('late-joiner', 'now');
    await pending;
    await waitFor(() => second.messages.length === 1, 'the message to the second subscriber');
    assert.deepEqual(first.messages, ['now']);
  });

  it('reaches subscribers in another PgPubsub, as another replica would be', async () => {
    const one = newPubsub();
    const two = newPubsub();
    const r = new Recorder();
    await two.subscribe('replicated', r);
    await one.publish('replicated', 'hello');
    await waitFor(() => r.messages.length === 1, 'the message on the other instance');
    assert.deepEqual(r.messages, ['hello']);
  });

  it('stops delivering after unsubscribe; other subscribers keep theirs', async () => {
    const ps = newPubsub();
    const gone = new Recorder();
    const stays = new Recorder();
    const unsubscribe = await ps.subscribe('unsub', gone);
    await ps.subscribe('unsub', stays);
    await ps.publish('unsub', 'one');
    await waitFor(() => gone.messages.length === 1 && stays.messages.length === 1, 'the first message');
    unsubscribe();
    unsubscribe(); // twice is harmless
    await ps.publish('unsub', 'two');
    await waitFor(() => stays.messages.length === 2, 'the second message to the remaining subscriber');
    assert.deepEqual(gone.messages, ['one']);

    // The last subscriber leaving UNLISTENs; subscribing again LISTENs again.
    const last = await ps.subscribe('unsub-last', new Recorder());
    last();
    const again = new Recorder();
    await ps.subscribe('unsub-last', again);
    await ps.publish('unsub-last', 'back');
    await waitFor(() => again.messages.length === 1, 'a message after subscribing again');
  });

  it('reconnects after the listen connection is killed, resets subscribers, and delivers later messages', async () => {
    const ps = newPubsub();
    const r = new Recorder();
    const r2 = new Recorder();
    await ps.subscribe('survives', r);
    await ps.subscribe('survives-too', r2);
    await ps.publish('survives', 'before');
    await waitFor(() => r.messages.length === 1, 'the first message');

    const listeners = async () =>
      (
        await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE application_name = 'kiln-pubsub' AND datname = current_database() ORDER BY pid`,
        )
      ).rows.map((x) => x.pid);
    const before = await listeners();
    assert.ok(before.length >= 1);
    // Kill every listen connection of this database (other instances here reconnect too).
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [before]);

    await waitFor(() => r.resets === 1 && r2.resets === 1, 'reset() on every subscriber', 15_000);
    const afterPids = await listeners();
    assert.ok(afterPids.every((p) => !before.includes(p)), 'new backends after the kill');

    await ps.publish('survives', 'after');
    await ps.publish('survives-too', 'after-too');
    await waitFor(() => r.messages.length === 2 && r2.messages.length === 1, 'messages after the reconnect', 15_000);
    assert.deepEqual(r.messages, ['before', 'after']);
    assert.deepEqual(r2.messages, ['after-too']);
  });

  it('sends what is published in one turn in one statement, in order; its commit leaves the connection as it was', async () => {
    let statements = 0;
    const counting = { query: (...args: Parameters<pg.Client['query']>) => (statements++, publisher.query(...args)) } as unknown as pg.Client;
    const ps = new PgPubsub(db.url, counting);
    open.push(ps);
    const r = new Recorder();
    await ps.subscribe('ordered', r);
    // (The test cluster runs with synchronous_commit off; this connection asks for it on, as a production one has it.)
    await publisher.query('SET synchronous_commit = on');
    const sent = Array.from({ length: 300 }, (_, i) => String(i));
    await Promise.all(sent.map((p) => ps.publish('ordered', p)));
    assert.equal(statements, 1, 'one statement for the whole turn');
    // One after another, each awaited: one statement each, still in order.
    for (const p of ['a', 'b', 'c']) await ps.publish('ordered', p);
    assert.equal(statements, 4);
    await waitFor(() => r.messages.length === 303, 'every message');
    assert.deepEqual(r.messages, [...sent, 'a', 'b', 'c']);
    // The flush's commit does not wait for the disk; the setting is its transaction's alone, not the connection's.
    assert.equal((await publisher.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit, 'on');
    await publisher.query('RESET synchronous_commit');
  });

  it('rejects a publish when its statement fails, and sends later ones', async () => {
    let fail = true;
    const flaky = {
      query: (...args: Parameters<pg.Client['query']>) => (fail ? Promise.reject(new Error('connection lost')) : publisher.query(...args)),
    } as unknown as pg.Client;
    const ps = new PgPubsub(db.url, flaky);
    open.push(ps);
    const r = new Recorder();
    await ps.subscribe('after-failure', r);
    await assert.rejects(ps.publish('after-failure', 'lost'), /connection lost/);
    fail = false;
    await ps.publish('after-failure', 'sent');
    await waitFor(() => r.messages.length === 1, 'the later message');
    assert.deepEqual(r.messages, ['sent']);
  });

  it('refuses to subscribe once closed, and close() is idempotent', async () => {
    const ps = newPubsub();
    await ps.subscribe('closing', new Recorder());
    await ps.close();
    await ps.close();
    await assert.rejects(ps.subscribe('closing', new Recorder()), /closed/);
  });
});

describe('pubsub channel names', () => {
  it('refuses names PostgreSQL would truncate (over 63 bytes)', async () => {
    const ps = new MemoryPubsub();
    await assert.rejects(ps.subscribe('x'.repeat(64), { message() {} }), /longer than 63 bytes/);
    await assert.rejects(ps.publish('é'.repeat(32)), /longer than 63 bytes/);
    const unsubscribe = await ps.subscribe('x'.repeat(63), { message() {} });
    unsubscribe();
  });
});
