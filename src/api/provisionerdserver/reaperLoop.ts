import { LOCK_KEYS, withTryAdvisoryLock } from '../../db/locks.js';
import { reapJobs } from '../../jobs/reaper.js';
import { coerceError } from '../../lib/errors.js';
import type { ServerContext } from '../context.js';

export interface ReaperLoop {
  /** Runs one pass now (also what the timer does); resolves when it is done. */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the job reaper once at start-up (jobs left running by a server that died are found at once once they are old
 * enough) and then every `intervalMs`. Passes never overlap, in this process or across replicas: a pass runs under an
 * advisory lock, and a replica that finds it taken skips its turn (the holder is doing the work).
 */
export function startReaperLoop(ctx: ServerContext, intervalMs = 30_000): ReaperLoop {
  let running: Promise<void> | null = null;
  let stopped = false;
  const runOnce = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= withTryAdvisoryLock(ctx.pool, LOCK_KEYS.jobReaper, async () => void (await reapJobs(ctx)))
      .then(() => undefined)
      .catch((e: unknown) => ctx.logger.error({ err: coerceError(e).message }, 'job reaper pass failed'))
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  void runOnce();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
