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
 * enough) and then every `intervalMs`. Passes never overlap.
 */
export function startReaperLoop(ctx: ServerContext, intervalMs = 30_000): ReaperLoop {
  let running: Promise<void> | null = null;
  let stopped = false;
  const runOnce = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= reapJobs(ctx)
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
