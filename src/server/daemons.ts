import os from 'node:os';

import type { ServerContext } from '../api/context.js';
import { InProcessProvisionerdClient, registerDaemon, touchDaemons, unregisterDaemons } from '../api/provisionerdserver/index.js';
import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { ProvisionerDaemon, type DaemonOptions } from '../provisionerd/daemon.js';
import type { Provisioner } from '../provisionersdk/provisioner.js';

import { createProvisioners } from './provisioners.js';

/** How often built-in daemons refresh `last_seen_at`. */
const LAST_SEEN_INTERVAL_MS = 15_000;

export interface BuiltinDaemonsOptions {
  count: number;
  logger: Logger;
  /** Provisioners by type; default: echo, and local when `dataDir` is given. */
  provisioners?: Record<string, Provisioner>;
  /** The server's data dir: the local provisioner keeps workspaces under it. */
  dataDir?: string;
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
  const provisioners = o.provisioners ?? defaultProvisioners(ctx, o.dataDir);
  const started: { id: string; name: string; daemon: ProvisionerDaemon; client: InProcessProvisionerdClient }[] = [];
  const host = os.hostname();
  try {
    for (let i = 0; i < o.count; i++) {
      const identity = await registerDaemon(ctx, { name: `${host}-builtin-${i + 1}`, provisioners: Object.keys(provisioners) });
      const client = new InProcessProvisionerdClient(ctx, identity, { pollMs: o.pollMs });
      const daemon = new ProvisionerDaemon({
        clock: ctx.clock,
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

function defaultProvisioners(ctx: ServerContext, dataDir: string | undefined): Record<string, Provisioner> {
  // The local provisioner needs a place for workspaces; without a data dir only echo runs.
  return createProvisioners(dataDir ? ['echo', 'local'] : ['echo'], { dataDir: dataDir ?? '', accessUrl: ctx.options.accessUrl });
}
