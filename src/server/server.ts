import path from 'node:path';
import { randomUUID } from 'node:crypto';

import type { ServerOptions } from '../api/context.js';
import { registerReplica, type ReplicaRegistration } from '../api/replicas.js';
import { startApiServer, type ApiServer } from '../api/server.js';
import { startKeyPurgeLoop, type KeyPurgeLoop } from '../api/auth/keyPurge.js';
import { startReaperLoop } from '../api/provisionerdserver/index.js';
import type { Clock } from '../lib/clock.js';
import { getUserCount } from '../db/queries/users.js';
import type { LogLevel, Logger } from '../lib/logger.js';
import { kilnVersion } from '../lib/version.js';
import { isRoot, workspaceGroup } from '../provisioners/local/identity.js';
import { findTerraform, type TerraformBinary } from '../provisioners/terraform/binary.js';
import { PTY_DEFAULTS } from '../sdk/tunnel/pty.js';

import { startBuiltinDaemons, type BuiltinDaemons } from './daemons.js';
import { boundHeapGrowth } from './heapGrowth.js';

/**
 * kiln's composition root: the API, the database and the built-in provisioner daemons wired together. `kiln server`
 * (src/cli/commands/server.ts) parses flags into a ServerConfig and owns signals; tests and benchmarks start servers here.
 */

export interface ServerConfig {
  address: string;
  /** The V8 heap's growth past its live size, in percent (src/server/heapGrowth.ts; default 100, 0: V8's choice). */
  heapGrowingPercent?: number;
  accessUrl?: string;
  dataDir: string;
  postgresUrl?: string;
  provisionerDaemons: number;
  logLevel: LogLevel;
  sessionDurationMs: number;
  maxFileBytes: number;
  jobHangTimeoutMs: number;
  jobPendingTimeoutMs: number;
  /** `--terraform-path`: the terraform binary (default: `terraform` on PATH); terraform is off when none (≥ 1.3) is found. */
  terraformPath?: string;
  /** `--terraform-registry-provider`: templates get coder/coder from the registry, not kiln's own provider. */
  terraformRegistryProvider?: boolean;
  /** Between SIGINT and SIGKILL when a terraform job is canceled (default 30 s). */
  terraformCancelGraceMs?: number;
  /** Where `terraform` is looked for when no path is given (default: $PATH); a seam for tests. */
  terraformSearchPath?: string;
  /** Reported by /buildinfo and the daemons (default: package.json's). */
  version?: string;
  /** `--local-unsandboxed`: local workspaces run without a sandbox (development only; every build warns). */
  localUnsandboxed?: boolean;
  /** `--wildcard-access-url`: the host apps are served under (default `*.apps.localhost:<port>`). */
  wildcardAccessUrl?: string;
  /** `--enable-path-apps`. */
  enablePathApps?: boolean;
  /** `--pty-idle-timeout`, `--pty-max-sessions`: workspace terminals (the replay buffer keeps its default). */
  pty?: { idleTimeoutMs: number; maxSessions: number };
  /** `--dev`: set up an admin and example templates once the server listens (see src/cli/commands/serverDev.ts). */
  dev?: boolean;
  /** Not flags: seams for tests and benchmarks. */
  clock?: Clock;
  overrides?: Partial<ServerOptions>;
  ephemeralPostgres?: boolean;
  /** The embedded PostgreSQL died and could not be restarted: `kiln server` exits non-zero. */
  onPostgresFatal?: (err: Error) => void;
  /** On close, running builds get this long to finish before they are stopped and failed (default 0). */
  daemonShutdownGraceMs?: number;
  /** How often the job reaper runs (default 30 s; it also runs once at start-up). */
  reaperIntervalMs?: number;
  /** Built-in daemon tuning (heartbeat, log batching), for tests. */
  daemonOptions?: Parameters<typeof startBuiltinDaemons>[1]['daemon'];
  /** How often idle daemons look at the queue without being notified (default 5 s). */
  daemonPollMs?: number;
  /** `--provisioner-daemon-psk`: external daemons may authenticate with this shared secret. */
  provisionerDaemonPsk?: string;
  /** How often this replica refreshes its row in `replicas` (default 5 s). */
  replicaHeartbeatMs?: number;
}

export interface RunningServer {
  api: ApiServer;
  url: string;
  /** The built-in provisioner daemons (`--provisioner-daemons`). */
  daemons: BuiltinDaemons;
  /** The terraform binary the daemons use, or why terraform is off. */
  terraform: TerraformBinary;
  /** Deletes expired API keys at start and hourly; `runOnce` for tests. */
  keyPurge: KeyPurgeLoop;
  /** Whether the first user exists yet (the CLI prints how to create it when not). */
  hasUsers(): Promise<boolean>;
  /** Stops the reaper and the daemons (failing builds still running), then the API and the database. */
  close(): Promise<void>;
}

/** Wires the API, the database and the built-in daemons together. Used by `kiln server` and by the test harness. */
export async function startServer(cfg: ServerConfig, logger: Logger): Promise<RunningServer> {
  boundHeapGrowth(cfg.heapGrowingPercent);
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
      ...(cfg.wildcardAccessUrl ? { wildcardAccessUrl: cfg.wildcardAccessUrl } : {}),
      ...(cfg.enablePathApps ? { enablePathApps: true } : {}),
      ...(cfg.pty ? { ptyLimits: { ...PTY_DEFAULTS, ...cfg.pty } } : {}),
      provisionerDaemonPsk: cfg.provisionerDaemonPsk || undefined,
      replicaId: randomUUID(),
      ...(cfg.daemonPollMs ? { daemonPollMs: cfg.daemonPollMs } : {}),
      ...(cfg.replicaHeartbeatMs ? { replicaHeartbeatMs: cfg.replicaHeartbeatMs } : {}),
      ...cfg.overrides,
    },
    clock: cfg.clock,
    ephemeralPostgres: cfg.ephemeralPostgres,
    onPostgresFatal: cfg.onPostgresFatal,
    // Sandboxed workspaces reach the agent API only through this socket; as root, workspace uids share its group.
    agentSocket: { dir: path.join(cfg.dataDir, 'agent-api'), gid: isRoot() ? await workspaceGroup().catch(() => undefined) : undefined },
  });
  let daemons: BuiltinDaemons;
  const terraform = await findTerraform(cfg.terraformPath, cfg.terraformSearchPath ?? process.env.PATH);
  let replica: ReplicaRegistration;
  try {
    // Every server registers itself, so GET /replicas shows the processes sharing this database.
    replica = await registerReplica(api.ctx);
  } catch (e) {
    await api.close();
    throw e;
  }
  try {
    daemons = await startBuiltinDaemons(api.engineCtx, {
      count: cfg.provisionerDaemons,
      logger,
      daemon: cfg.daemonOptions,
      pollMs: cfg.daemonPollMs,
      dataDir: cfg.dataDir,
      local: { agentSocketDir: api.agentSocket?.bindDir, sandbox: cfg.localUnsandboxed ? 'none' : 'required' },
      terraform,
      terraformRegistryProvider: cfg.terraformRegistryProvider,
      terraformCancelGraceMs: cfg.terraformCancelGraceMs,
    });
  } catch (e) {
    await replica.stop();
    await api.close();
    throw e;
  }
  // Jobs left running by a server that died are failed once their heartbeat is older than --job-hang-timeout.
  // Default: a quarter of the hang timeout (at most 30 s), so a hung job is failed soon after the timeout passes.
  const reaper = startReaperLoop(api.engineCtx, cfg.reaperIntervalMs ?? Math.min(30_000, Math.max(1_000, Math.floor(cfg.jobHangTimeoutMs / 4))));
  const keyPurge = startKeyPurgeLoop(api.engineCtx);
  let closing: Promise<void> | undefined;
  return {
    api,
    url: api.url,
    daemons,
    terraform,
    keyPurge,
    hasUsers: async () => (await getUserCount(api.ctx.pool)) > 0,
    close: () =>
      (closing ??= (async () => {
        await reaper.stop();
        await keyPurge.stop();
        // Daemons report their last job through the pool, so they stop before it closes.
        await daemons.close(cfg.daemonShutdownGraceMs ?? 0);
        await replica.stop();
        await api.close();
      })()),
  };
}

