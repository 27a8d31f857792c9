import { backoffDelay, sleep } from '../lib/backoff.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { coerceError } from '../lib/errors.js';
import type { Provisioner } from '../provisionersdk/provisioner.js';
import type { ProvisionerDaemonClient } from '../sdk/types/provisionerd.js';

import { silentLogger, type DaemonLogger } from './logger.js';
import { defaultWorkDir, JobRunner } from './runner.js';

export interface DaemonOptions {
  client: ProvisionerDaemonClient;
  /** Provisioner plugins by type (`echo`, `terraform`, …); jobs of other types are failed. */
  provisioners: Record<string, Provisioner>;
  logger?: DaemonLogger;
  clock?: Clock;
  workDir?: string;
  /** Log batching: flush every `logFlushMs` or at `logFlushLines` lines (Coder: 250 ms / 100). */
  logFlushMs?: number;
  logFlushLines?: number;
  /** Lines a job holds in memory while they cannot be sent (default DEFAULT_MAX_QUEUED_LINES, see updater.ts). */
  logMaxQueuedLines?: number;
  /** Heartbeat interval while a job runs; a cancel is seen within this long (plus one round trip). */
  heartbeatMs?: number;
  forceCancelMs?: number;
}

/**
 * A provisioner daemon: acquires one job at a time through its client and runs it with a provisioner plugin. It never
 * touches the database; the same loop serves built-in daemons (in-process client) and external ones (HTTP client).
 */
export class ProvisionerDaemon {
  readonly #stopAcquiring = new AbortController();
  #loop: Promise<void> | undefined;
  #runner: JobRunner | undefined;
  #closing = false;
  readonly #logger: DaemonLogger;

  constructor(private readonly opts: DaemonOptions) {
    this.#logger = opts.logger ?? silentLogger;
  }

  /** The job being run now, if any. */
  get currentJobId(): string | undefined {
    return this.#runner?.job.job_id;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Graceful: take no new job, let the running one finish. */
  async shutdown(): Promise<void> {
    this.#stopAcquiring.abort();
    await this.#loop;
  }

  /** Immediate: take no new job; stop the running one, which is failed with a message saying the daemon shut down. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#stopAcquiring.abort();
    this.#runner?.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#stopAcquiring.signal;
    let attempt = 0;
    while (!signal.aborted) {
      let job;
      try {
        job = await this.opts.client.acquireJob(signal);
        attempt = 0;
      } catch (e) {
        this.#logger.warn({ err: coerceError(e).message }, 'acquire job failed; retrying');
        await sleep(backoffDelay(attempt++, 100, 5000), signal);
        continue;
      }
      // A job acquired just as a shutdown began is still run (or failed, when closing): it is ours now.
      if (!job) continue;
      this.#logger.info({ job_id: job.job_id, type: job.type, provisioner: job.provisioner }, 'job acquired');
      const runner = new JobRunner(job, {
        client: this.opts.client,
        provisioners: this.opts.provisioners,
        clock: this.opts.clock ?? systemClock,
        logger: this.#logger,
        workDir: this.opts.workDir ?? defaultWorkDir(),
        flushMs: this.opts.logFlushMs ?? 250,
        flushLines: this.opts.logFlushLines ?? 100,
        ...(this.opts.logMaxQueuedLines ? { maxQueuedLines: this.opts.logMaxQueuedLines } : {}),
        heartbeatMs: this.opts.heartbeatMs ?? 500,
        forceCancelMs: this.opts.forceCancelMs ?? 60_000,
      });
      this.#runner = runner;
      if (this.#closing) runner.close();
      try {
        await runner.run();
      } catch (e) {
        this.#logger.error({ job_id: job.job_id, err: coerceError(e).message }, 'job runner crashed');
      } finally {
        this.#runner = undefined;
      }
    }
    // A job the client took for us with the last success (and we will not ask for) goes back to the queue.
    await this.opts.client.returnHeldJob?.().catch((e: unknown) => this.#logger.warn({ err: coerceError(e).message }, 'returning a held job failed'));
  }
}
