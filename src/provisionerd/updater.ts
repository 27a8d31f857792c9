import type { Clock } from '../lib/clock.js';
import { isProvisionerdError, type JobLog, type ProvisionerDaemonClient } from '../sdk/types/provisionerd.js';

import type { DaemonLogger } from './logger.js';

export interface UpdaterOptions {
  /** Flush queued lines this often. */
  flushMs: number;
  /** Flush at once when this many lines are queued. */
  flushLines: number;
  /** Send an update (a heartbeat) at least this often, even with no lines; it is how a cancel reaches us. */
  heartbeatMs: number;
}

/** More lines than this go out in the next update, so one insert stays a reasonable size. */
const MAX_BATCH = 2000;

/**
 * A running job's channel to the server: queues log lines, flushes them in batches, heartbeats, and reports what the
 * server answered (canceled; or the job is no longer ours). One update is in flight at a time, so lines arrive in order.
 */
export class JobUpdater {
  #queue: JobLog[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> | null = null;
  #again = false;
  #lastSent = 0;
  #lost: Error | undefined;

  constructor(
    private readonly jobId: string,
    private readonly client: ProvisionerDaemonClient,
    private readonly opts: UpdaterOptions,
    private readonly clock: Clock,
    private readonly logger: DaemonLogger,
    /** Called once when the server says the job was canceled. */
    private readonly onCanceled: () => void,
    /** Called once when the server refuses updates for this job (reaped, or taken away): stop working on it. */
    private readonly onLost: (e: Error) => void,
  ) {}

  /** The error that made the server refuse this job, if it did. */
  get lost(): Error | undefined {
    return this.#lost;
  }

  start(): void {
    this.#lastSent = performance.now();
    this.#timer = setInterval(() => this.#tick(), Math.min(this.opts.flushMs, this.opts.heartbeatMs));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  log(l: Omit<JobLog, 'created_at'>): void {
    this.#queue.push({ created_at: this.clock.now().getTime(), ...l });
    if (this.#queue.length >= this.opts.flushLines) void this.update();
  }

  /** Sends everything queued (or a bare heartbeat). Concurrent calls coalesce into the in-flight one plus one more. */
  update(): Promise<void> {
    if (this.#inflight) {
      this.#again = true;
      return this.#inflight;
    }
    this.#inflight = (async () => {
      do {
        this.#again = false;
        await this.#sendOnce();
      } while ((this.#again || this.#queue.length >= this.opts.flushLines) && !this.#lost);
    })().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  /** Sends every queued line, retrying a few times on transient errors; used before the final report. */
  async drain(attempts = 8): Promise<void> {
    for (let i = 0; i < attempts && !this.#lost; i++) {
      await this.update();
      if (this.#queue.length === 0) return;
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** i)));
    }
    if (this.#queue.length) this.logger.warn({ job_id: this.jobId, dropped: this.#queue.length }, 'could not send the last log lines');
  }

  #tick(): void {
    const due = performance.now() - this.#lastSent >= this.opts.heartbeatMs;
    if (this.#queue.length > 0 || due) void this.update();
  }

  async #sendOnce(): Promise<void> {
    if (this.#lost) return;
    const batch = this.#queue.splice(0, MAX_BATCH);
    try {
      const res = await this.client.updateJob({ job_id: this.jobId, logs: batch });
      this.#lastSent = performance.now();
      if (res.canceled) this.onCanceled();
    } catch (e) {
      if (isProvisionerdError(e)) {
        this.#lost = e;
        this.onLost(e);
        return;
      }
      // Transient (the database blinked): keep the lines, in order, for the next attempt.
      this.#queue.unshift(...batch);
      this.logger.warn({ job_id: this.jobId, err: (e as Error).message }, 'job update failed; will retry');
    }
  }
}
