import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { AgentClient } from '../sdk/agentsdk.js';
import { isSdkError } from '../sdk/errors.js';
import type { LogLevel } from '../sdk/types/workspaceAgents.js';

import { retry } from './retry.js';

/** Lines are sent in batches this often, so a chatty script costs a few requests a second, not one per line. */
const FLUSH_INTERVAL_MS = 250;
const MAX_BATCH = 500;

/**
 * Buffers startup log lines and PATCHes them in order, one batch at a time. After the server answers 413 (the
 * agent's 1 MiB cap is reached) nothing more is sent.
 */
export class LogSender {
  #queue: { created_at: string; output: string; level: LogLevel }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> = Promise.resolve();
  #capped = false;

  constructor(
    private readonly client: AgentClient,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {}

  add(output: string, level: LogLevel = 'info'): void {
    if (this.#capped) return;
    this.#queue.push({ created_at: new Date().toISOString(), output, level });
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Sends everything queued so far; resolves when the server has it (or it was given up). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#sending = this.#sending.then(async () => {
      while (this.#queue.length && !this.#capped) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        try {
          await retry(() => this.client.patchStartupLogs({ logs: batch }), this.signal);
        } catch (e) {
          if (isSdkError(e, 413)) {
            this.#capped = true;
            this.logger.warn('startup logs reached the server limit; later lines are not sent');
          } else this.logger.warn({ err: coerceError(e).message }, 'startup log lines lost');
        }
      }
      if (this.#capped) this.#queue = [];
    });
    return this.#sending;
  }
}
