import type { ServerOptions } from '../api/context.js';
import { startApiServer, type ApiServer } from '../api/server.js';
import { startKeyPurgeLoop, type KeyPurgeLoop } from '../api/auth/keyPurge.js';
import { startReaperLoop } from '../api/provisionerdserver/index.js';
import type { Clock } from '../lib/clock.js';
import { getUserCount } from '../db/queries/users.js';
import type { LogLevel, Logger } from '../lib/logger.js';
import { kilnVersion } from '../lib/version.js';

import { startBuiltinDaemons, type BuiltinDaemons } from './daemons.js';

/**
 * kiln's composition root: the API, the database and the built-in provisioner daemons wired together. `kiln server`
 * (src/cli/commands/server.ts) parses flags into a ServerConfig and owns signals; tests and benchmarks start servers here.
 */

export interface ServerConfig {
  address: string;
  accessUrl?: string;
  dataDir: string;
  postgresUrl?: string;
  provisionerDaemons: number;
  logLevel: LogLevel;
  sessionDurationMs: number;
  maxFileBytes: number;
  jobHangTimeoutMs: number;
  jobPendingTimeoutMs: number;
  /** Reported by /buildinfo and the daemons (default: package.json's). */
  version?: string;
  /** `--dev`: set up an admin and example templates once the server listens (see src/cli/commands/serverDev.ts). */
  dev?: boolean;
  /** Not flags: seams for tests and benchmarks. */
  clock?: Clock;
  overrides?: Partial<ServerOptions>;
  ephemeralPostgres?: boolean;
  /** On close, running builds get this long to finish before they are stopped and failed (default 0). */
  daemonShutdownGraceMs?: number;
  /** How often the job reaper runs (default 30 s; it also runs once at start-up). */
  reaperIntervalMs?: number;
  /** Built-in daemon tuning (heartbeat, log batching), for tests. */
  daemonOptions?: Parameters<typeof startBuiltinDaemons>[1]['daemon'];
  /** How often idle built-in daemons look at the queue without being notified (default 5 s). */
  daemonPollMs?: number;
}

export interface RunningServer {
  api: ApiServer;
  url: string;
  /** The built-in provisioner daemons (`--provisioner-daemons`). */
  daemons: BuiltinDaemons;
  /** Deletes expired API keys at start and hourly; `runOnce` for tests. */
  keyPurge: KeyPurgeLoop;
  /** Whether the first user exists yet (the CLI prints how to create it when not). */
  hasUsers(): Promise<boolean>;
  /** Stops the reaper and the daemons (failing builds still running), then the API and the database. */
  close(): Promise<void>;
}

/** Wires the API, the database and the built-in daemons together. Used by `kiln server` and by the test harness. */
export async function startServer(cfg: ServerConfig, logger: Logger): Promise<RunningServer> {
  const api = await startApiServer({
    address: cfg.address,
    postgresUrl: cfg.postgresUrl,
    dataDir: cfg.dataDir,
    logger,
    options: {
      accessUrl: cfg.accessUrl,
      version: cfg.version ?? kilnVersion(),
      sessionDurationMs: cfg.sessionDurationMs,
      maxFileBytes: cfg.maxFileBytes,
      jobHangTimeoutMs: cfg.jobHangTimeoutMs,
      jobPendingTimeoutMs: cfg.jobPendingTimeoutMs,
      ...cfg.overrides,
    },
    clock: cfg.clock,
    ephemeralPostgres: cfg.ephemeralPostgres,
  });
  let daemons: BuiltinDaemons;
  try {
    daemons = await startBuiltinDaemons(api.engineCtx, { count: cfg.provisionerDaemons, logger, daemon: cfg.daemonOptions, pollMs: cfg.daemonPollMs, dataDir: cfg.dataDir });
  } catch (e) {
    await api.close();
    throw e;
  }
  // Jobs left running by another replica that died are failed once their heartbeat is older than --job-hang-timeout
  // (this server's own were failed at once by startBuiltinDaemons).
  const reaper = startReaperLoop(api.engineCtx, cfg.reaperIntervalMs);
  const keyPurge = startKeyPurgeLoop(api.engineCtx);
  let closing: Promise<void> | undefined;
  return {
    api,
    url: api.url,
    daemons,
    keyPurge,
    hasUsers: async () => (await getUserCount(api.ctx.pool)) > 0,
    close: () =>
      (closing ??= (async () => {
        await reaper.stop();
        await keyPurge.stop();
        // Daemons report their last job through the pool, so they stop before it closes.
        await daemons.close(cfg.daemonShutdownGraceMs ?? 0);
        await api.close();
      })()),
  };
}

