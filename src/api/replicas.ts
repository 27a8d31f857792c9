import os from 'node:os';

import { LOCK_KEYS, withTryAdvisoryLock } from '../db/locks.js';
import { deleteReplica, deleteReplicasUpdatedBefore, insertReplica, touchReplica } from '../db/queries/replicas.js';
import { coerceError } from '../lib/errors.js';

import type { ServerContext } from './context.js';

export interface ReplicaRegistration {
  id: string;
  /** Removes this replica's row (a graceful stop: peers forget it at once). */
  stop(): Promise<void>;
}

/** A replica silent for this many heartbeats is dead: hidden from GET /replicas; forgotten after ten. */
export const REPLICA_DEAD_AFTER_BEATS = 3;
const REPLICA_FORGET_AFTER_BEATS = 10;

/**
 * Registers this server in `replicas` and refreshes the row every heartbeat, with the database round trip it measured
 * (Coder's replicasync). One replica at a time (advisory lock) deletes rows of replicas that stopped refreshing.
 */
export async function registerReplica(ctx: ServerContext, p: { regionId?: number; relayAddress?: string } = {}): Promise<ReplicaRegistration> {
  const id = ctx.options.replicaId;
  const base = { id, hostname: os.hostname(), regionId: p.regionId ?? 0, relayAddress: p.relayAddress ?? '', version: ctx.options.version };
  await insertReplica(ctx.pool, { ...base, now: ctx.clock.now() });
  const every = ctx.options.replicaHeartbeatMs;
  let running: Promise<void> | null = null;
  const beat = async () => {
    let error = '';
    const t0 = process.hrtime.bigint();
    try {
      await ctx.pool.query('SELECT 1');
    } catch (e) {
      error = `database: ${coerceError(e).message}`;
    }
    const latencyUs = Number((process.hrtime.bigint() - t0) / 1000n);
    await touchReplica(ctx.pool, { ...base, now: ctx.clock.now(), latencyUs, error });
    await withTryAdvisoryLock(ctx.pool, LOCK_KEYS.replicaCleanup, async () => {
      const n = await deleteReplicasUpdatedBefore(ctx.pool, new Date(ctx.clock.now().getTime() - REPLICA_FORGET_AFTER_BEATS * every));
      if (n) ctx.logger.info({ forgotten: n }, 'forgot replicas that stopped heartbeating');
    });
  };
  const timer = setInterval(() => {
    running ??= beat()
      .catch((e: unknown) => ctx.logger.warn({ err: coerceError(e).message }, 'replica heartbeat failed'))
      .finally(() => (running = null));
  }, every);
  timer.unref();
  return {
    id,
    async stop() {
      clearInterval(timer);
      await running;
      await deleteReplica(ctx.pool, id).catch((e: unknown) => ctx.logger.warn({ err: coerceError(e).message }, 'could not unregister this replica'));
    },
  };
}
