import type { AcquiredJobRow } from '../../db/queries/provisionerJobs.js';
import { acquireJob, releaseJob, releaseUntouchedJobs } from '../../jobs/acquire.js';
import { JOB_CANCELED_CHANNEL, JOB_POSTED_CHANNEL } from '../../jobs/channels.js';
import { abortJob, completeJob, failJob } from '../../jobs/complete.js';
import { updateJob } from '../../jobs/update.js';
import { coerceError } from '../../lib/errors.js';
import type {
  AcquiredJob,
  CompleteJobRequest,
  FailJobRequest,
  ProvisionerDaemonClient,
  UpdateJobRequest,
  UpdateJobResponse,
} from '../../sdk/types/provisionerd.js';
import type { ServerContext } from '../context.js';

import { acquiredJobPayload } from './payload.js';

export interface DaemonIdentity {
  id: string;
  name: string;
  provisioners: string[];
  tags: Record<string, string>;
  /** External daemons serve one organization; built-in ones (undefined) serve all. */
  organizationId?: string | null;
}

export interface InProcessClientOptions {
  /** The slow poll behind the NOTIFY wake-up: a lost notification delays a job by at most this long. */
  pollMs?: number;
}

/**
 * The provisioner protocol for built-in daemons: direct calls into the queue. Idle daemons wait on the job-posted
 * notification (a slow poll stays as a backstop) and are pushed cancel requests, so a cancel is seen at once.
 */
export class InProcessProvisionerdClient implements ProvisionerDaemonClient {
  #posted = 0;
  #wakers = new Set<() => void>();
  #cancelWatchers = new Map<string, Set<() => void>>();
  #subscribed: Promise<void> | undefined;
  #unsubscribe: (() => void)[] = [];
  #closed = false;
  /** The signal of the daemon's last `acquireJob`: once aborted, it will not ask again. */
  #asking: AbortSignal | undefined;
  /** The job the daemon's last success took for it (`completeJob`), handed out by its next `acquireJob`. */
  #held: AcquiredJobRow | undefined;
  /** A success that may have taken a job failed to answer: the job, if any, is ours but unknown to us. */
  #unsure = false;

  constructor(
    private readonly ctx: ServerContext,
    readonly daemon: DaemonIdentity,
    private readonly opts: InProcessClientOptions = {},
  ) {}

  async acquireJob(signal: AbortSignal): Promise<AcquiredJob | null> {
    this.#asking = signal;
    await this.#subscribe();
    if (this.#unsure) {
      // Running nothing, so whatever is still started under this daemon's id and untouched is such a job: back it goes.
      await releaseUntouchedJobs(this.ctx, this.daemon.id);
      this.#unsure = false;
    }
    while (!signal.aborted && !this.#closed) {
      // A job posted while this attempt runs bumps the counter; then we try again instead of sleeping through it.
      const seen = this.#posted;
      const held = this.#held;
      this.#held = undefined;
      const row = held ?? (await acquireJob(this.ctx, this.daemon));
      if (row) {
        try {
          return await acquiredJobPayload(this.ctx, row);
        } catch (e) {
          // The job is ours and nobody else will run it: fail it now, with the reason, rather than let it hang.
          const reason = coerceError(e).message;
          this.ctx.logger.warn({ job_id: row.id, err: reason }, 'acquired job cannot be run; failing it');
          await abortJob(this.ctx, row.id, `request job was invalidated: ${reason}`);
          continue;
        }
      }
      if (this.#posted === seen) await this.#wait(signal);
    }
    return null;
  }

  /**
   * Two: a batch is handed over while the one before it is inserted. Calls reach src/jobs/update.ts in the order they
   * were made (no transport in between), and it inserts them in that order.
   */
  readonly updatesInFlight = 2;

  /** A build's last lines go in with its success, in one statement when the server can (src/jobs/complete.ts). */
  readonly completeCarriesLogs = true;

  updateJob(req: UpdateJobRequest): Promise<UpdateJobResponse> {
    return updateJob(this.ctx, this.daemon.id, req);
  }

  /**
   * A success also takes the daemon's next job, in the same statement, when the daemon is still asking for jobs (one
   * statement and one commit fewer per job under load); it is held for the next `acquireJob`.
   */
  async completeJob(req: CompleteJobRequest): Promise<void> {
    const asking = this.#asking !== undefined && !this.#asking.aborted && !this.#closed && this.#held === undefined;
    try {
      const next = await completeJob(this.ctx, this.daemon.id, req, asking ? this.daemon : undefined);
      if (next) this.#held = next;
    } catch (e) {
      // The statement may have committed (a job taken with it) and only its answer been lost.
      if (asking) this.#unsure = true;
      throw e;
    }
  }

  async returnHeldJob(): Promise<void> {
    const held = this.#held;
    this.#held = undefined;
    if (held) await releaseJob(this.ctx, held.id, this.daemon.id);
    if (this.#unsure) await releaseUntouchedJobs(this.ctx, this.daemon.id);
    this.#unsure = false;
  }

  failJob(req: FailJobRequest): Promise<void> {
    return failJob(this.ctx, this.daemon.id, req);
  }

  onCancelRequested(jobId: string, cb: () => void): () => void {
    let set = this.#cancelWatchers.get(jobId);
    if (!set) this.#cancelWatchers.set(jobId, (set = new Set()));
    set.add(cb);
    return () => {
      set.delete(cb);
      if (set.size === 0) this.#cancelWatchers.delete(jobId);
    };
  }

  close(): void {
    this.#closed = true;
    for (const u of this.#unsubscribe.splice(0)) u();
    for (const w of [...this.#wakers]) w();
  }

  #subscribe(): Promise<void> {
    this.#subscribed ??= (async () => {
      const wakeAll = () => {
        this.#posted++;
        for (const w of [...this.#wakers]) w();
      };
      const cancelFor = (jobId: string) => {
        for (const cb of [...(this.#cancelWatchers.get(jobId) ?? [])]) cb();
      };
      try {
        // `reset` means notifications may have been lost: look at the queue (and at our job's flag) again.
        this.#unsubscribe.push(await this.ctx.pubsub.subscribe(JOB_POSTED_CHANNEL, { message: wakeAll, reset: wakeAll }));
        this.#unsubscribe.push(
          await this.ctx.pubsub.subscribe(JOB_CANCELED_CHANNEL, {
            message: (id) => cancelFor(id),
            reset: () => [...this.#cancelWatchers.keys()].forEach(cancelFor),
          }),
        );
      } catch (e) {
        // Without notifications the daemon still works, on the slow poll and its heartbeat.
        this.ctx.logger.warn({ err: coerceError(e).message }, 'provisioner daemon could not subscribe; polling only');
        this.#subscribed = undefined;
      }
    })();
    return this.#subscribed;
  }

  #wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.opts.pollMs ?? 5_000);
      signal.addEventListener('abort', done, { once: true });
      this.#wakers.add(done);
    });
  }
}
