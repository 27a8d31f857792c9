import pg from 'pg';

import { backoffDelay, sleep } from '../lib/backoff.js';
import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

import { IDEMPOTENT, type Queryable } from './pool.js';

/**
 * Notifications are hints that carry ids, never data: the table is the truth. A subscriber that is told `reset` may
 * have missed notifications (the listen connection was lost) and must re-read what it cares about.
 */
export interface Subscriber {
  message(payload: string): void;
  reset?(): void;
  /**
   * The listen connection was just lost: from now until `reset`, notifications are missed. For subscribers that serve
   * from memory what notifications keep exact (the API-key cache), which must stop doing so at once.
   */
  lost?(): void;
}

/** PostgreSQL truncates identifiers, channel names included, to 63 bytes: a longer name would silently never match. */
export const MAX_CHANNEL_BYTES = 63;

export function assertChannelName(channel: string): void {
  if (Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) throw new Error(`pubsub channel name longer than ${MAX_CHANNEL_BYTES} bytes: ${channel}`);
}

export interface Pubsub {
  publish(channel: string, payload?: string): Promise<void>;
  /** Resolves once the subscription is active, so a caller can subscribe first and read state second. */
  subscribe(channel: string, subscriber: Subscriber): Promise<() => void>;
  close(): Promise<void>;
}

class Registry {
  readonly channels = new Map<string, Set<Subscriber>>();
  add(channel: string, s: Subscriber): boolean {
    let set = this.channels.get(channel);
    const fresh = !set;
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(s);
    return fresh;
  }
  remove(channel: string, s: Subscriber): boolean {
    const set = this.channels.get(channel);
    if (!set) return false;
    set.delete(s);
    if (set.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }
  deliver(channel: string, payload: string): void {
    for (const s of [...(this.channels.get(channel) ?? [])]) {
      try {
        s.message(payload);
      } catch {
        // A subscriber's failure is its own; the others still get the message.
      }
    }
  }
  lostAll(): void {
    for (const set of this.channels.values()) for (const s of [...set]) s.lost?.();
  }
  resetAll(): void {
    for (const set of this.channels.values()) for (const s of [...set]) s.reset?.();
  }
}

/** In-process fan-out, for unit tests that have no database. */
export class MemoryPubsub implements Pubsub {
  #reg = new Registry();
  async publish(channel: string, payload = ''): Promise<void> {
    assertChannelName(channel);
    queueMicrotask(() => this.#reg.deliver(channel, payload));
  }
  async subscribe(channel: string, s: Subscriber): Promise<() => void> {
    assertChannelName(channel);
    this.#reg.add(channel, s);
    return () => void this.#reg.remove(channel, s);
  }
  async close(): Promise<void> {}
}

/** Notifications sent by one statement at most (the queue takes 8 kB each; a flush stays far below any limit). */
const MAX_NOTIFICATIONS_PER_FLUSH = 1_000;

/**
 * A batch of notifications, in order (a function scan yields rows in order, and the aggregate calls pg_notify row by
 * row). The statement's transaction changes no table, and its commit does not wait for the WAL flush
 * (`synchronous_commit` off for it alone): a notification is a hint about rows that are already durable, and the
 * notification-queue lock is held for microseconds instead of for a disk write. Running it twice (a retry after a
 * dead connection) only repeats hints.
 */
const NOTIFY_BATCH = `${IDEMPOTENT} SELECT set_config('synchronous_commit', 'off', true) AS async_commit,
  (SELECT count(pg_notify(n.channel, n.payload)) FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS n(channel, payload, ord)) AS sent`;

/**
 * PostgreSQL LISTEN/NOTIFY on one dedicated connection that reconnects with backoff. Works across server replicas:
 * a NOTIFY from any process reaches every listener on the database.
 */
export class PgPubsub implements Pubsub {
  #reg = new Registry();
  #client: pg.Client | null = null;
  #connecting: Promise<pg.Client> | null = null;
  #closed = false;
  #chain: Promise<unknown> = Promise.resolve();
  /** Per channel, the LISTEN that made it active. */
  #listening = new Map<string, Promise<void>>();
  /** Cuts a reconnect backoff short when the pubsub closes. */
  #stop = new AbortController();

  constructor(
    private readonly connectionString: string,
    private readonly publisher: Queryable,
    private readonly logger?: Logger,
  ) {}

  /**
   * Sends the notification after the ones published before it. Callers publish after their transaction committed (a
   * listener re-reads the tables, so it must see the change), never from inside one: a transaction that notifies takes
   * PostgreSQL's one notification-queue lock at commit and holds it through its WAL flush, so concurrent notifying
   * commits are flushed one after another instead of together. Here notifications wait while a flush is on its way and
   * then go together, in order, in one statement whose commit does not wait for the disk (`NOTIFY_BATCH`). Resolves
   * once the notification is sent.
   */
  publish(channel: string, payload = ''): Promise<void> {
    return new Promise((resolve, reject) => {
      assertChannelName(channel);
      this.#outbox.push({ channel, payload, done: (e) => (e === undefined ? resolve() : reject(e)) });
      this.#flushing ??= this.#flush();
    });
  }

  /** Resolves once every notification published so far has been sent (or has failed). */
  async settled(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /** Notifications waiting for the next flush, in publish order. */
  #outbox: { channel: string; payload: string; done: (e?: unknown) => void }[] = [];
  /** The flush loop while it runs: it sends batches until the outbox is empty. */
  #flushing: Promise<void> | undefined;

  async #flush(): Promise<void> {
    try {
      // Notifications published in the same turn (a build's two, a job's end) leave together.
      await Promise.resolve();
      while (this.#outbox.length > 0) {
        const batch = this.#outbox.splice(0, MAX_NOTIFICATIONS_PER_FLUSH);
        try {
          await this.publisher.query({ name: 'kiln_notify_batch', text: NOTIFY_BATCH, values: [batch.map((n) => n.channel), batch.map((n) => n.payload)] });
        } catch (e) {
          for (const n of batch) n.done(e ?? new Error('notification failed'));
          continue;
        }
        for (const n of batch) n.done();
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async subscribe(channel: string, s: Subscriber): Promise<() => void> {
    assertChannelName(channel);
    if (this.#closed) throw new Error('pubsub is closed');
    if (this.#reg.add(channel, s)) {
      this.#listening.set(channel, this.#run(async (c) => void (await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`))));
    }
    // A later subscriber to a channel waits for the same LISTEN: it is only subscribed once that has run.
    try {
      await this.#listening.get(channel);
    } catch (e) {
      if (this.#reg.remove(channel, s)) this.#listening.delete(channel);
      throw e;
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (this.#reg.remove(channel, s)) {
        this.#listening.delete(channel);
        if (!this.#closed) this.#run(async (c) => c.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`)).catch(() => {});
      }
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    // What was published before the close is still sent (the publisher outlives the pubsub).
    await this.#flushing;
    this.#stop.abort();
    const c = this.#client;
    this.#client = null;
    await c?.end().catch(() => {});
    // A reconnect in progress sees #closed and gives up; wait for it so no connection outlives close().
    await this.#connecting?.catch(() => {});
    await this.#chain.catch(() => {});
  }

  /** Serialises commands on the listen connection, connecting first when needed. */
  #run<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const next = this.#chain.then(async () => fn(await this.#connect()));
    this.#chain = next.catch(() => {});
    return next;
  }

  #connect(): Promise<pg.Client> {
    if (this.#client) return Promise.resolve(this.#client);
    if (this.#closed) return Promise.reject(new Error('pubsub is closed'));
    this.#connecting ??= (async () => {
      for (let attempt = 0; ; attempt++) {
        if (this.#closed) throw new Error('pubsub is closed');
        const c = new pg.Client({ connectionString: this.connectionString, application_name: 'kiln-pubsub' });
        // Listeners first: an 'error' event with none attached would crash the process.
        c.on('error', (e) => this.#lost(c, e));
        c.on('end', () => this.#lost(c, new Error('connection ended')));
        c.on('notification', (n) => this.#reg.deliver(n.channel, n.payload ?? ''));
        try {
          await c.connect();
          for (const ch of this.#reg.channels.keys()) await c.query(`LISTEN ${pg.escapeIdentifier(ch)}`);
          if (this.#closed) throw new Error('pubsub is closed');
          this.#client = c;
          if (attempt > 0) this.logger?.info({ attempt }, 'pubsub reconnected');
          return c;
        } catch (e) {
          await c.end().catch(() => {});
          if (this.#closed) throw coerceError(e);
          if (attempt === 0 && this.#reg.channels.size === 0) throw coerceError(e);
          this.logger?.warn({ err: coerceError(e).message, attempt }, 'pubsub connect failed, retrying');
          await sleep(backoffDelay(attempt, 100, 5000), this.#stop.signal);
        }
      }
    })().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  #lost(c: pg.Client, e: Error): void {
    if (this.#client !== c || this.#closed) return;
    this.#client = null;
    this.logger?.warn({ err: e.message }, 'pubsub connection lost; reconnecting');
    c.end().catch(() => {});
    this.#reg.lostAll();
    // Reconnect, then tell every subscriber that notifications may have been missed.
    this.#run(async () => undefined)
      .then(() => this.#reg.resetAll())
      .catch(() => {});
  }
}
