import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Pool } from '../db/pool.js';
import type { Pubsub } from '../db/pubsub.js';

/** Server settings that routes read. Filled with defaults in one place (`resolveServerOptions`). */
export interface ServerOptions {
  /** The URL users and agents reach the server at. */
  accessUrl: string;
  version: string;
  /** Lifetime of a session key made by login. */
  sessionDurationMs: number;
  /** Lifetime of a key made by POST /users/{user}/keys. */
  tokenLifetimeMs: number;
  /** Upper bound of a POST /files body. */
  maxFileBytes: number;
  /** scrypt cost parameter N; tests lower it. */
  passwordHashCost: number;
  /** A running job with no heartbeat for this long is failed by the reaper. */
  jobHangTimeoutMs: number;
  /** A pending job no daemon took for this long is failed by the reaper. */
  jobPendingTimeoutMs: number;
  /** The log lines of one job are capped at this many bytes. */
  maxJobLogBytes: number;
  /** Agents refresh last_connected_at this often while connected. */
  agentConnectionUpdateMs: number;
  /** Log followers of one stream re-check the database this often even without a notification (one query per stream). */
  followBackstopMs: number;
}

export const defaultServerOptions: ServerOptions = {
  accessUrl: 'http://127.0.0.1:3000',
  version: '0.0.0',
  sessionDurationMs: 24 * 3600_000,
  tokenLifetimeMs: 30 * 24 * 3600_000,
  maxFileBytes: 10 * 1024 * 1024,
  passwordHashCost: 16384,
  jobHangTimeoutMs: 5 * 60_000,
  jobPendingTimeoutMs: 30 * 60_000,
  maxJobLogBytes: 1024 * 1024,
  agentConnectionUpdateMs: 3_000,
  followBackstopMs: 5_000,
};

/** Everything a route needs, passed explicitly: no globals. */
export interface ServerContext {
  pool: Pool;
  pubsub: Pubsub;
  logger: Logger;
  clock: Clock;
  options: ServerOptions;
}
