import { backoffDelay, sleep } from '../lib/backoff.js';
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
  /** Lines held in memory while the server cannot be reached; later ones are dropped and counted (default 10,000). */
  maxQueuedLines?: number;
}

/** More lines than this go out in the next update, so one insert stays a reasonable size. */
const MAX_BATCH = 2000;
export const DEFAULT_MAX_QUEUED_LINES = 10_000;
/** Retries of a failed update back off (with jitter) from this, doubling, up to the maximum. */
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5_000;

/**
 * A running job's channel to the server: queues log lines, flushes them in batches, heartbeats, and reports what the
 * server answered (canceled; or the job is no longer ours). One update is in flight at a time, so lines arrive in order;
 * a client whose server runs updates in the order they were sent lets a full batch go while the one before it is
 * inserted (`updatesInFlight`).
 */
export class JobUpdater {
  #queue: JobLog[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> | null = null;
  #again = false;
  #lastSent = 0;
  #lost: Error | undefined;
  /** Consecutive failed updates, and when the next attempt may go (backoff). */
  #failures = 0;
  #retryAt = 0;
  /** Lines dropped because the queue was full; reported in the log once delivery resumes. */
  #dropped = 0;
  /** Producers waiting for the queue to have room again (`room`). */
  #roomWaiters: (() => void)[] = [];
  /** The send loop, waiting for a full batch to send behind the update on its way (`#sendWindow`). */
  #fullWaiters: (() => void)[] = [];
  /** Updates on their way now. */
  #sending = 0;

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
    this.#wakeProducers(true);
    this.#wakeFull();
  }

  /**
   * Resolves once the queue holds less than one update's worth of lines. A provisioner that writes lines faster than they can be sent awaits
   * this now and then, so its lines wait in its own source (a script, a pipe) instead of this queue, and none is
   * dropped while the server is reachable. Resolves at once after the job was lost or the updater stopped.
   */
  room(): Promise<void> {
    if (this.#queue.length < this.#roomBelow() || this.#lost || this.#timer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  #maxQueued(): number {
    return this.opts.maxQueuedLines ?? DEFAULT_MAX_QUEUED_LINES;
  }

  /** Lines wait here as briefly as possible: a line held longer outlives the young generation and costs a full GC. */
  #roomBelow(): number {
    return Math.min(MAX_BATCH, this.#maxQueued() / 2);
  }

  #wakeProducers(all = false): void {
    if (this.#roomWaiters.length === 0 || (!all && !this.#lost && this.#queue.length >= this.#roomBelow())) return;
    for (const wake of this.#roomWaiters.splice(0)) wake();
  }

  /** Lines dropped so far because the server could not be reached for long. */
  get dropped(): number {
    return this.#dropped;
  }

  log(l: Omit<JobLog, 'created_at'>): void {
    if (this.#queue.length >= this.#maxQueued()) {
      this.#dropped++;
      return;
    }
    this.#queue.push({ created_at: this.clock.now().getTime(), ...l });
    if (this.#queue.length >= MAX_BATCH && this.#fullWaiters.length > 0) this.#wakeFull();
    if (this.#queue.length >= this.opts.flushLines && !this.#backingOff()) void this.update();
  }

  #backingOff(): boolean {
    return this.#failures > 0 && performance.now() < this.#retryAt;
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
        // A failed send ends the loop: the next attempt waits for the backoff (never a hot retry loop).
        if (!(await this.#sendWindow())) break;
      } while ((this.#again || this.#queue.length >= this.opts.flushLines) && !this.#lost);
    })().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  /**
   * One update and, while it is on its way, full batches behind it, as many as the client lets run at once
   * (`updatesInFlight`: its server runs them in order). Waits for them all. False when one failed: the failed batches
   * go back to the front of the queue in the order they were sent, and the next attempt waits for the backoff.
   */
  async #sendWindow(): Promise<boolean> {
    const window = Math.max(1, this.client.updatesInFlight ?? 1);
    const sends = [this.#sendOnce()];
    const failed: JobLog[][] = [];
    while (sends.length > 0) {
      const oldest = sends[0] as Promise<Sent>;
      if (sends.length < window && failed.length === 0 && !this.#lost) {
        if (this.#queue.length >= MAX_BATCH) {
          sends.push(this.#sendOnce());
          continue;
        }
        // Whichever comes first: the oldest update's answer, or a full batch to send behind it.
        const full = this.#full();
        const first = await Promise.race([oldest.then(() => 'answered' as const), full.done]);
        full.cancel();
        if (first === 'full') continue;
      }
      sends.shift();
      const sent = await oldest;
      if (!sent.ok) failed.push(sent.requeue ?? []);
    }
    if (failed.length > 0) this.#queue.unshift(...failed.flat());
    return failed.length === 0;
  }

  /** `done` resolves once a full batch is queued, the job is lost or the updater stopped; `cancel` stops waiting. */
  #full(): { done: Promise<'full'>; cancel: () => void } {
    let wake!: () => void;
    const done = new Promise<'full'>((resolve) => (wake = () => resolve('full')));
    this.#fullWaiters.push(wake);
    return {
      done,
      cancel: () => {
        const i = this.#fullWaiters.indexOf(wake);
        if (i >= 0) this.#fullWaiters.splice(i, 1);
      },
    };
  }

  #wakeFull(): void {
    for (const wake of this.#fullWaiters.splice(0)) wake();
  }

  /**
   * Sends every queued line, retrying with backoff on transient errors; used before the final report. Gives up after
   * `attempts`, or at once when `signal` aborts (the daemon is closing).
   */
  async drain(attempts = 12, signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < attempts && !this.#lost; i++) {
      await this.update();
      if (this.#queue.length === 0 && this.#dropped === this.#reportedDropped) return;
      if (signal?.aborted) break;
      await sleep(Math.max(0, this.#retryAt - performance.now(), backoffDelay(i, RETRY_BASE_MS, RETRY_MAX_MS)), signal);
    }
    if (this.#queue.length) this.logger.warn({ job_id: this.jobId, dropped: this.#queue.length }, 'could not send the last log lines');
  }

  /**
   * After `stop()`: the lines not yet sent, taken out of the queue, numbered from 1 (`seq`) so a completion that
   * carries them and is sent again stores them once, for a client whose server stores a completion's lines with it
   * (`completeCarriesLogs`). Waits for an update on its way first. Undefined, and nothing taken, when the lines must
   * go by `drain` instead: the job was lost, lines were dropped and not yet reported, more than one batch is left, or
   * this job's lines were numbered already.
   */
  async takeTail(): Promise<JobLog[] | undefined> {
    await this.#inflight;
    if (this.#lost || this.#dropped !== this.#reportedDropped || this.#queue.length > MAX_BATCH || this.#queue.some((l) => l.seq !== undefined)) return undefined;
    return this.#queue.splice(0).map((l, i) => ({ ...l, seq: i + 1 }));
  }

  #tick(): void {
    if (this.#backingOff()) return;
    const due = performance.now() - this.#lastSent >= this.opts.heartbeatMs;
    if (this.#queue.length > 0 || due) void this.update();
  }

  #reportedDropped = 0;

  /**
   * One update. On a transient failure its lines are handed back (`requeue`) for the caller to put back in order;
   * the caller then stops and waits for the backoff.
   */
  async #sendOnce(): Promise<Sent> {
    if (this.#lost) return { ok: false };
    const batch = this.#queue.splice(0, MAX_BATCH);
    // The producer refills the queue while this batch is on its way, so the next batch is ready when the server
    // answers: woken only after the answer, it sat idle during every insert, and half the updates were small.
    this.#wakeProducers();
    // Lines dropped while the queue was full are reported in the log itself, once, where they went missing.
    // (Only by an update that goes alone: two on their way would both report it.)
    const newlyDropped = this.#sending === 0 ? this.#dropped - this.#reportedDropped : 0;
    const lossNote: JobLog[] =
      newlyDropped > 0
        ? [{ created_at: this.clock.now().getTime(), source: 'provisioner_daemon', level: 'warn', stage: batch.at(-1)?.stage ?? '', output: `kiln: ${newlyDropped} log line(s) were dropped while the server could not be reached.` }]
        : [];
    this.#sending++;
    try {
      const res = await this.client.updateJob({ job_id: this.jobId, logs: [...batch, ...lossNote] });
      this.#lastSent = performance.now();
      this.#wakeProducers();
      if (this.#failures > 0) {
        this.logger.info({ job_id: this.jobId, failed_attempts: this.#failures }, 'job updates resumed');
        this.#failures = 0;
      }
      if (newlyDropped > 0) {
        this.#reportedDropped += newlyDropped;
        this.logger.warn({ job_id: this.jobId, dropped: newlyDropped }, 'log lines were dropped while the server could not be reached');
      }
      if (res.canceled) this.onCanceled();
      return { ok: true };
    } catch (e) {
      if (isProvisionerdError(e)) {
        if (!this.#lost) {
          this.#lost = e;
          this.#wakeProducers(true);
          this.#wakeFull();
          this.onLost(e);
        }
        return { ok: false };
      }
      // Transient (the database is down or blinked): keep the lines, in order (the caller puts them back), and wait
      // before the next attempt.
      this.#retryAt = performance.now() + backoffDelay(this.#failures, RETRY_BASE_MS, RETRY_MAX_MS);
      // One warn line when updates start failing, then debug: an outage must not flood the log.
      if (this.#failures === 0) this.logger.warn({ job_id: this.jobId, err: (e as Error).message }, 'job update failed; retrying with backoff');
      else this.logger.debug({ job_id: this.jobId, attempt: this.#failures, err: (e as Error).message }, 'job update failed again');
      this.#failures++;
      return { ok: false, requeue: batch };
    } finally {
      this.#sending--;
    }
  }
}

/** What one update came to; `requeue`: its lines, to send again (a transient failure). */
interface Sent {
  ok: boolean;
  requeue?: JobLog[];
}
