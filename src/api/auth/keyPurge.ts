import { deleteExpiredApiKeys } from '../../db/queries/apiKeys.js';
import { coerceError } from '../../lib/errors.js';
import { startPeriodic, type Periodic } from '../../lib/periodic.js';
import type { ServerContext } from '../context.js';

/** How often expired API keys are deleted. */
export const KEY_PURGE_INTERVAL_MS = 60 * 60_000;
/** Keys are kept this long past their expiry, so a client still sees "API key expired" rather than "invalid" for a while. */
export const KEY_PURGE_GRACE_MS = 24 * 3600_000;
const BATCH = 1000;

export type KeyPurgeLoop = Periodic<number>;

/**
 * Deletes API keys that expired more than a day ago, at start and then hourly, in batches. Sessions made by every
 * login otherwise pile up forever. Any replica may run it: deleting twice is harmless.
 */
export function startKeyPurgeLoop(ctx: ServerContext, intervalMs = KEY_PURGE_INTERVAL_MS): KeyPurgeLoop {
  return startPeriodic(intervalMs, 0, async (stopped) => {
    try {
      const before = new Date(ctx.clock.now().getTime() - KEY_PURGE_GRACE_MS);
      let total = 0;
      for (;;) {
        const n = await deleteExpiredApiKeys(ctx.pool, before, BATCH);
        total += n;
        if (n < BATCH || stopped()) break;
      }
      if (total > 0) ctx.logger.info({ deleted: total }, 'purged expired API keys');
      return total;
    } catch (e) {
      ctx.logger.warn({ err: coerceError(e).message }, 'could not purge expired API keys');
      return 0;
    }
  });
}
