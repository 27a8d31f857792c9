import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ServerContext } from '../api/context.js';
import { InProcessProvisionerdClient, recoverServerDaemons, registerDaemon, touchDaemons, unregisterDaemons } from '../api/provisionerdserver/index.js';
import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { ProvisionerDaemon, type DaemonOptions } from '../provisionerd/daemon.js';
import { EchoProvisioner } from '../provisioners/echo/echo.js';
import { LocalProvisioner, type LocalProvisionerOptions } from '../provisioners/local/local.js';
import { TerraformProvisioner } from '../provisioners/terraform/terraform.js';
import type { TerraformBinary } from '../provisioners/terraform/binary.js';
import type { Provisioner } from '../provisionersdk/provisioner.js';


/** How often built-in daemons refresh `last_seen_at`. */
const LAST_SEEN_INTERVAL_MS = 15_000;

export interface BuiltinDaemonsOptions {
  count: number;
  logger: Logger;
  /** Provisioners by type; default: echo, and local when `dataDir` is given. */
  provisioners?: Record<string, Provisioner>;
  /** The server's data dir: the local provisioner keeps workspaces under it, terraform its plugin cache. */
  dataDir?: string;
  /** Settings of the local provisioner (its sandbox, the agent socket it binds into workspaces). */
  local?: Pick<LocalProvisionerOptions, 'agentSocketDir' | 'sandbox'>;
  /** The terraform binary found at start-up: the daemons offer `terraform` when it is usable. */
  terraform?: TerraformBinary;
  /** Resolve coder/coder from the Terraform registry instead of kiln's own provider. */
  terraformRegistryProvider?: boolean;
  /** Between SIGINT and SIGKILL when a terraform job is canceled (default 30 s). */
  terraformCancelGraceMs?: number;
  /** Daemon tuning (heartbeat, batching), for tests. */
  daemon?: Partial<Omit<DaemonOptions, 'client' | 'provisioners'>>;
  /** The slow poll behind the job-posted notification (default 5 s). */
  pollMs?: number;
}

export interface BuiltinDaemons {
  readonly daemons: readonly { id: string; name: string; daemon: ProvisionerDaemon }[];
  /**
   * Stops every daemon: running jobs get `graceMs` to finish, then they are stopped and failed with a message saying
   * the daemon shut down. Must run while the database is still open (the daemons report through it).
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * The server's built-in provisioner daemons: each registered in provisioner_daemons and talking to the queue through
 * an in-process client.
 */
export async function startBuiltinDaemons(ctx: ServerContext, o: BuiltinDaemonsOptions): Promise<BuiltinDaemons> {
  const provisioners = o.provisioners ?? defaultProvisioners(ctx, o);
  const started: { id: string; name: string; daemon: ProvisionerDaemon; client: InProcessProvisionerdClient }[] = [];
  const host = os.hostname();
  const serverId = o.dataDir ? await persistedServerId(o.dataDir) : undefined;
  let workDir: string | undefined;
  if (serverId) {
    // Nothing of this server runs yet: whatever its previous process left running or on disk is dead.
    const failed = await recoverServerDaemons(ctx, serverId);
    if (failed.length) o.logger.warn({ jobs: failed }, `restart: failed ${failed.length} job(s) this server was running when it stopped unexpectedly`);
    workDir = path.join(os.tmpdir(), `kiln-jobs-${serverId}`);
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true, mode: 0o700 });
  }
  try {
    for (let i = 0; i < o.count; i++) {
      const identity = await registerDaemon(ctx, { name: `${host}-builtin-${i + 1}`, provisioners: Object.keys(provisioners), serverId });
      const client = new InProcessProvisionerdClient(ctx, identity, { pollMs: o.pollMs });
      const daemon = new ProvisionerDaemon({
        clock: ctx.clock,
        ...(workDir ? { workDir } : {}),
        ...o.daemon,
        client,
        provisioners,
        logger: o.logger.child({ daemon: identity.name }),
      });
      daemon.start();
      started.push({ id: identity.id, name: identity.name, daemon, client });
    }
  } catch (e) {
    await Promise.all(started.map((d) => d.daemon.close()));
    throw e;
  }
  const ids = started.map((d) => d.id);
  const timer = setInterval(() => {
    touchDaemons(ctx, ids).catch((e: unknown) => o.logger.warn({ err: coerceError(e).message }, 'could not refresh provisioner daemons'));
  }, LAST_SEEN_INTERVAL_MS);
  timer.unref();
  let closing: Promise<void> | undefined;
  return {
    daemons: started,
    close: (graceMs = 0) =>
      (closing ??= (async () => {
        clearInterval(timer);
        if (graceMs > 0) {
          const all = Promise.all(started.map((d) => d.daemon.shutdown()));
          await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
        }
        await Promise.all(started.map((d) => d.daemon.close()));
        for (const d of started) d.client.close();
        await unregisterDaemons(ctx, ids).catch((e: unknown) => o.logger.warn({ err: coerceError(e).message }, 'could not unregister provisioner daemons'));
      })()),
  };
}

/**
 * This server's id, kept in `<dataDir>/server-id` (made on first start). Replicas sharing one database each have their
 * own data dir, hence their own id: it is how a restarting server knows which daemons were its own.
 */
export async function persistedServerId(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'server-id');
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (/^[0-9a-f-]{36}$/i.test(id)) return id;
  } catch {
    // first start
  }
  const id = randomUUID();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, id + '\n', { mode: 0o644 });
  return id;
}

/** `bin/kiln.js` of this installation: the local provisioner starts `kiln agent` from it. */
const KILN_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kiln.js');

function defaultProvisioners(ctx: ServerContext, o: BuiltinDaemonsOptions): Record<string, Provisioner> {
  const out: Record<string, Provisioner> = { echo: new EchoProvisioner() };
  const { dataDir } = o;
  if (dataDir) {
    out.local = new LocalProvisioner({ dataDir, accessUrl: ctx.options.accessUrl, agentCommand: [process.execPath, KILN_BIN, 'agent'], ...o.local });
    if (o.terraform?.ok) {
      out.terraform = new TerraformProvisioner({
        terraform: o.terraform.path,
        pluginCacheDir: path.join(dataDir, 'terraform', 'plugin-cache'),
        accessUrl: ctx.options.accessUrl,
        useRegistry: o.terraformRegistryProvider,
        cancelGraceMs: o.terraformCancelGraceMs,
        nodePath: process.execPath,
      });
    }
  }
  return out;
}
