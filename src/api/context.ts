import type { Clock } from '../lib/clock.js';
import { defaultLoginLimits, type LoginLimits } from './auth/loginLimiter.js';
import { defaultStreamLimits, type StreamLimits } from './http/streamCaps.js';
import type { Logger } from '../lib/logger.js';
import type { Pool, Queryable } from '../db/pool.js';
import type { Pubsub } from '../db/pubsub.js';
import { PTY_DEFAULTS } from '../sdk/tunnel/pty.js';

import type { AgentTunnels } from './agents/tunnels.js';

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
  /** Views of finished builds each replica keeps in memory (src/api/builds/buildViewCache.ts); 0 turns the cache off. */
  buildViewCacheEntries: number;
  /** Check every JSON response against its schema (extra or missing fields fail the request); tests turn it on. */
  checkResponses: boolean;
  /** Apps are served on `<app>--<agent>--<workspace>--<owner>.<this host>` (`*.` first); default from the listen address. */
  wildcardAccessUrl: string;
  /** Coder's path-based app URLs on the dashboard origin; off unless asked for (docs/security.md). */
  enablePathApps: boolean;
  /** Lifetime of an app token minted by the auth redirect. */
  appTokenLifetimeMs: number;
  /** `--provisioner-daemon-psk`: a shared secret external daemons may authenticate with (unset: keys or tokens only). */
  provisionerDaemonPsk?: string;
  /** A daemon not seen for this long is `offline` (Coder: 90 s). */
  provisionerDaemonStaleMs: number;
  /** External daemons are pinged this often; one that misses a ping is disconnected. */
  daemonPingMs: number;
  /** Idle daemons look at the queue this often even without a job-posted notification. */
  daemonPollMs: number;
  /** This replica (GET /replicas); set by the composition root. */
  replicaId: string;
  /** Replicas refresh their row this often; one silent for three intervals is dead (hidden, then forgotten). */
  replicaHeartbeatMs: number;
  /** Failed password logins allowed per client IP and per account in a window (then 429 with Retry-After). */
  loginLimits: LoginLimits;
  /** Long-lived streams (log follows, workspace watches) one user may hold open at once. */
  streamLimits: StreamLimits;
  /** Reconnecting terminals (docs/security.md): idle timeout, output kept for a reconnect, terminals per agent. */
  ptyLimits: { idleTimeoutMs: number; bufferBytes: number; maxSessions: number };
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
  buildViewCacheEntries: 2_000,
  checkResponses: false,
  wildcardAccessUrl: '',
  enablePathApps: false,
  appTokenLifetimeMs: 3600_000,
  provisionerDaemonStaleMs: 90_000,
  daemonPingMs: 10_000,
  daemonPollMs: 5_000,
  replicaId: '00000000-0000-0000-0000-000000000000',
  replicaHeartbeatMs: 5_000,
  loginLimits: defaultLoginLimits,
  streamLimits: defaultStreamLimits,
  ptyLimits: { ...PTY_DEFAULTS },
};

/** Everything a route needs, passed explicitly: no globals. */
export interface ServerContext {
  pool: Pool;
  /** Jobs' log batches, pipelined (src/db/pipeline.ts, src/jobs/update.ts). */
  logPipelines?: readonly Queryable[];
  pubsub: Pubsub;
  logger: Logger;
  clock: Clock;
  options: ServerOptions;
  /** Streams to connected agents (the app proxy and, later, shells ride them). */
  tunnels: AgentTunnels;
}
