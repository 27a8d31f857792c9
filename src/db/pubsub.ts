import pg from 'pg';

import { backoffDelay, sleep } from '../lib/backoff.js';
import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

import type { Queryable } from './pool.js';

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

  async publish(channel: string, payload = ''): Promise<void> {
    assertChannelName(channel);
    await this.publisher.query('SELECT pg_notify($1, $2)', [channel, payload]);
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
