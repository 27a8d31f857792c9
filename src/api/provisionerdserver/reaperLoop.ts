import { LOCK_KEYS, withTryAdvisoryLock } from '../../db/locks.js';
import { reapJobs } from '../../jobs/reaper.js';
import { coerceError } from '../../lib/errors.js';
import { startPeriodic, type Periodic } from '../../lib/periodic.js';
import type { ServerContext } from '../context.js';

export type ReaperLoop = Periodic<void>;

/**
 * Runs the job reaper once at start-up (jobs left running by a server that died are found at once once they are old
 * enough) and then every `intervalMs`. Passes never overlap, in this process or across replicas: a pass runs under an
 * advisory lock, and a replica that finds it taken skips its turn (the holder is doing the work).
 */
export function startReaperLoop(ctx: ServerContext, intervalMs = 30_000): ReaperLoop {
  return startPeriodic(intervalMs, undefined, async () => {
    try {
      await withTryAdvisoryLock(ctx.pool, LOCK_KEYS.jobReaper, async () => void (await reapJobs(ctx)));
    } catch (e) {
      ctx.logger.error({ err: coerceError(e).message }, 'job reaper pass failed');
    }
  });
}
