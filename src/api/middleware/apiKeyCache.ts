import type { ApiKeyWithUserRow } from '../../db/queries/apiKeys.js';
import type { Pubsub } from '../../db/pubsub.js';
import { coerceError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';

/** Migration 000090's triggers notify here on every change authentication reads: 'k:<key id>' or 'u:<user id>'. */
export const AUTH_CHANNEL = 'kiln_auth';
/** Keys kept in memory per replica; the oldest entry leaves first (docs/security.md). */
export const DEFAULT_API_KEY_CACHE_ENTRIES = 10_000;

/**
 * API keys with their users, in memory, so authentication costs no statement once a key was seen. Kept exact by
 * NOTIFY: every change to a key or to a user's name, status, roles or deletion is announced by a trigger, whoever
 * made it (any replica, or SQL), and every replica drops the entries concerned. Serves from memory only while the
 * listen connection is up: from the moment it is lost until it is back, every lookup reads the database.
 */
export class ApiKeyCache {
  readonly #entries = new Map<string, ApiKeyWithUserRow>();
  readonly #keysByUser = new Map<string, Set<string>>();
  /** Bumped by every invalidation: a row read before one may be older than it, and is not kept. */
  #epoch = 0;
  #live = false;
  #unsubscribe: (() => void) | undefined;
  /** Resolvers waiting for a notification about one id to come back (see `echo`). */
  readonly #waiting = new Map<string, Set<() => void>>();

  constructor(readonly maxEntries = DEFAULT_API_KEY_CACHE_ENTRIES) {}

  async start(pubsub: Pubsub, logger: Logger): Promise<void> {
    try {
      this.#unsubscribe = await pubsub.subscribe(AUTH_CHANNEL, {
        message: (payload) => this.#invalidate(payload, true),
        lost: () => {
          this.#live = false;
          this.#clear();
        },
        reset: () => {
          this.#clear();
          this.#live = true;
        },
      });
      this.#live = true;
    } catch (e) {
      // Without notifications nothing may be served from memory; authentication reads the database every time.
      logger.warn({ err: coerceError(e).message }, 'API-key cache disabled: cannot listen for invalidations');
    }
  }

  stop(): void {
    this.#live = false;
    this.#unsubscribe?.();
    this.#clear();
  }

  /** The key and its user: from memory, or from `load` (then kept, unless something changed meanwhile). */
  async get(id: string, load: () => Promise<ApiKeyWithUserRow | undefined>): Promise<ApiKeyWithUserRow | undefined> {
    const hit = this.#live ? this.#entries.get(id) : undefined;
    if (hit) return hit;
    const epoch = this.#epoch;
    const row = await load();
    if (row && this.#live && epoch === this.#epoch) this.#put(row);
    return row;
  }

  /** Drops a key at once on this replica (the trigger's NOTIFY tells the others). */
  forgetKey(id: string): void {
    this.#invalidate(`k:${id}`);
  }

  /**
   * Resolves when this replica's listen connection has received the notification about `id` ('k:…' or 'u:…') or after
   * `timeoutMs`. PostgreSQL sends a notification to every listener at the same commit, so a route that changed a key
   * waits for its own copy before answering: the other replicas have theirs by then.
   */
  echo(payload: string, timeoutMs = 1_000): Promise<void> {
    if (!this.#live) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let set = this.#waiting.get(payload);
      if (!set) this.#waiting.set(payload, (set = new Set()));
      const waiters = set;
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiting.get(payload) === waiters) this.#waiting.delete(payload);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      waiters.add(done);
    });
  }

  /** Whether entries are served from memory (the listen connection is up). */
  get live(): boolean {
    return this.#live;
  }

  get size(): number {
    return this.#entries.size;
  }

  #put(row: ApiKeyWithUserRow): void {
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#drop(oldest.value);
    }
    this.#entries.set(row.id, row);
    let keys = this.#keysByUser.get(row.user_id);
    if (!keys) this.#keysByUser.set(row.user_id, (keys = new Set()));
    keys.add(row.id);
  }

  #drop(keyId: string): void {
    const row = this.#entries.get(keyId);
    if (!row) return;
    this.#entries.delete(keyId);
    const keys = this.#keysByUser.get(row.user_id);
    keys?.delete(keyId);
    if (keys?.size === 0) this.#keysByUser.delete(row.user_id);
  }

  #invalidate(payload: string, notified = false): void {
    this.#epoch++;
    const id = payload.slice(2);
    if (payload.startsWith('k:')) this.#drop(id);
    else if (payload.startsWith('u:')) for (const k of [...(this.#keysByUser.get(id) ?? [])]) this.#drop(k);
    else this.#clear();
    if (notified) for (const done of [...(this.#waiting.get(payload) ?? [])]) done();
  }

  #clear(): void {
    this.#epoch++;
    this.#entries.clear();
    this.#keysByUser.clear();
  }
}
