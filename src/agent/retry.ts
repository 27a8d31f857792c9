import { backoffDelay, sleep } from '../lib/backoff.js';
import { isSdkError } from '../sdk/errors.js';

/** Reconnects stay quick: a new build's agent is refused (403) only until its build completes, a second or so. */
export const BACKOFF_BASE_MS = 100;
export const BACKOFF_MAX_MS = 3_000;

/**
 * Statuses that will not change by asking again: a bad request. 403 is not one (the build may finish), nor is 401: a
 * Terraform template starts its agent during the apply, with the token of a `coder_agent` the server learns of only
 * when the build completes, so an unknown token may become valid (Coder's agent retries it too).
 */
function permanent(e: unknown): boolean {
  return isSdkError(e) && e.status >= 400 && e.status < 500 && ![401, 403, 404, 408, 429].includes(e.status);
}

/**
 * Calls `fn` until it succeeds, with backoff, through server restarts and network errors. Gives up (rethrows) on a
 * permanent client error, and returns undefined when `signal` aborts.
 */
export async function retry<T>(fn: () => Promise<T>, signal: AbortSignal, onError?: (e: unknown, attempt: number) => void): Promise<T | undefined> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (permanent(e)) throw e;
      onError?.(e, attempt);
      await sleep(backoffDelay(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS), signal);
    }
  }
  return undefined;
}
