import { inTx, type Queryable } from '../db/pool.js';
import { completeBuildJobWithLines, type CompleteBuildJobParams, type CompletedBuild } from '../db/queries/jobEnd.js';
import { getProvisionerJobByID, getProvisionerJobForUpdate, touchProvisionerJob, updateProvisionerJobLogUsage, type AcquiredJobRow, type JobLogUsage, type ProvisionerJobRow } from '../db/queries/provisionerJobs.js';
import { encodeLines, insertProvisionerJobLogsIfBudget, insertProvisionerJobLogsWithUsage, type ExpectedLogBudget, type NewJobLog } from '../db/queries/provisionerJobLogs.js';
import { ProvisionerdError, type JobLog, type UpdateJobRequest, type UpdateJobResponse } from '../sdk/types/provisionerd.js';

import { publishJobEnded, publishLogs, type JobsContext } from './context.js';
import { emitLocalJobLogs, hasLocalJobLogListeners, localOrigin } from './localLogFeed.js';
import { capLogs, type CappedLogs } from './logCap.js';
import { assertOwnedAndOpen } from './ownership.js';

/**
 * A daemon's update (reference §7.6): the heartbeat (`updated_at`), plus a batch of log lines inserted in one
 * statement and announced to followers. The reply carries the cancel flag: how a cancel reaches the daemon.
 */
export async function updateJob(ctx: JobsContext, workerId: string, req: UpdateJobRequest): Promise<UpdateJobResponse> {
  const now = ctx.clock.now();
  if (req.logs.length === 0) {
    // The common case, a bare heartbeat, is one UPDATE with no transaction.
    const touched = await touchProvisionerJob(ctx.pool, req.job_id, workerId, now);
    if (touched) return { canceled: touched.canceled_at !== null };
    assertOwnedAndOpen(await getProvisionerJobByID(ctx.pool, req.job_id), workerId, req.job_id);
    throw new ProvisionerdError('not_running', "job isn't running");
  }
  // A pipelined daemon (ProvisionerDaemonClient.updatesInFlight) sends this update while its previous one may still
  // be running here. This one's lines are capped and encoded now, while that one's insert runs; its statement goes
  // only once that one is done (`prior.done`: true when its lines are stored), so the lines keep their order. Or,
  // when that one's statement went on the job's pipelined connection, at once behind it (`prior.plan`).
  const prior = tails(ctx).get(req.job_id);
  const early = prior ? prepareEarly(ctx, req) : undefined;
  const mine = newTail();
  tails(ctx).set(req.job_id, mine);
  let result: UpdateOutcome;
  const failedBefore = () => new Error(`the previous log update of job ${req.job_id} failed; this one must follow it`);
  try {
    // Whether the previous one's statement went on the pipeline is known once it has been written.
    if (prior && early) await prior.written;
    const ahead = prior && early ? prior.plan : undefined;
    if (prior && ahead) {
      // Applies only if the previous one did (it expects the budget that one leaves, and that one adds to it), so the
      // lines keep their order whatever happens to it; when it did not, the previous one's outcome decides.
      // It settles only after the previous one: a later update must never find this one done while that one runs.
      const piped = await updateWithRememberedBudget(ctx, workerId, req, now, mine, early, ahead).then(
        (r) => ({ r }),
        (e: unknown) => ({ e }),
      );
      const priorOk = await prior.done;
      if ('e' in piped) throw piped.e;
      if (!priorOk && !piped.r) throw failedBefore();
      result = piped.r ?? (await updateUnderLock(ctx, workerId, req, now, early));
    } else {
      // If it failed, so does this one (a transient error): the daemon sends both again, in order.
      if (prior && !(await prior.done)) throw failedBefore();
      result = (await updateWithRememberedBudget(ctx, workerId, req, now, mine, early)) ?? (await updateUnderLock(ctx, workerId, req, now, early));
    }
    mine.settle(true);
  } catch (e) {
    mine.settle(false);
    throw e;
  } finally {
    mine.wrote();
    if (tails(ctx).get(req.job_id) === mine) tails(ctx).delete(req.job_id);
  }
  remember(ctx, req.job_id, { workerId, logsLength: result.usage.logsLength, logSeq: result.usage.logSeq, overflowed: result.usage.logsOverflowed });
  if (result.firstId === null || result.lastId === null) return { canceled: result.canceled };
  // Committed. This server's followers get the lines from memory at once; the notification tells the other replicas,
  // and followers here that could not take the batch. Not awaited: notifications leave in the order they were
  // published (the job's end is announced after its last batch), and the daemon need not wait for this one.
  void publishLogs(ctx, req.job_id, { created_after: result.firstId - 1, last_id: result.lastId, origin: localOrigin(ctx.pubsub) });
  // The ids were returned only if this server had followers then; one who came since is woken by the notification.
  if (result.ids.length > 0 && hasLocalJobLogListeners(ctx.pubsub, req.job_id)) {
    const batch = {
      jobId: req.job_id,
      prevLastId: result.prevLastId,
      rows: result.lines.map((l, i) => ({
        id: result.ids[i] as number, job_id: req.job_id, created_at: l.createdAt, source: l.source, level: l.level, stage: l.stage, output: l.output,
      })),
    };
    // Written once this update has answered, so a daemon's next update is already on its way to the database while
    // the frames go out: on one event loop, 100 followers' frames took as long as an insert, and a line every few
    // milliseconds queued behind the two done in turn. Batches still leave in order (immediates run first in, first out).
    setImmediate(() => emitLocalJobLogs(ctx.pubsub, batch));
  }
  return { canceled: result.canceled };
}

interface UpdateOutcome {
  canceled: boolean;
  /** The batch's first and last line id; null when no line was inserted. */
  firstId: number | null;
  lastId: number | null;
  /** Every id, in batch order, when this server has followers of the job (otherwise possibly empty). */
  ids: number[];
  lines: NewJobLog[];
  prevLastId: number;
  usage: JobLogUsage;
}

/**
 * The common case in one statement: the server remembers the job's log budget from this worker's previous update, so
 * it caps the batch without reading the job first, and the statement applies it only if the row still says so
 * (`insertProvisionerJobLogsIfBudget`). Undefined: nothing remembered, or the row changed; the locked path decides.
 */
async function updateWithRememberedBudget(
  ctx: JobsContext,
  workerId: string,
  req: UpdateJobRequest,
  now: Date,
  /** This update, told when its statement is written, and whether on the pipeline. */
  self: Tail,
  early?: EarlyBatch,
  /** The budget to expect: the one the update in flight leaves (pipelined), or by default the last one stored. */
  expect?: RememberedBudget,
): Promise<UpdateOutcome | undefined> {
  const known = expect ?? remembered(ctx).get(req.job_id);
  if (!known || known.workerId !== workerId || known.overflowed) return undefined;
  const { fresh, maxSeq } = unstored(req.logs, known.logSeq);
  const capped = capWithEarly({ logs_length: known.logsLength, logs_overflowed: false }, fresh, req, early, ctx.options.maxJobLogBytes);
  if (capped.lines.length === 0) return undefined;
  const usage = { now, logsLength: capped.logsLength, logsOverflowed: capped.overflowed, logSeq: maxSeq };
  // The ids only matter to this server's followers; one who starts following meanwhile is woken by the notification.
  const withIds = hasLocalJobLogListeners(ctx.pubsub, req.job_id);
  // A batch that came while another was running (a daemon streaming lines) goes on the job's pipelined connection;
  // the next one may then follow it there at once, expecting what this one leaves. Only a batch that adds to the
  // budget can be expected so: if this one did not apply, the next one's expectation then cannot hold either.
  const pipe = early ? pipelineOf(ctx, req.job_id) : undefined;
  const pending = insertProvisionerJobLogsIfBudget(pipe ?? ctx.pool, req.job_id, known, capped.lines, usage, withIds);
  // Written (the call sends it before its first await).
  if (pipe && capped.logsLength > known.logsLength && !capped.overflowed) self.plan = { workerId, logsLength: capped.logsLength, logSeq: maxSeq, overflowed: false };
  self.wrote();
  const done = await pending;
  if (!done) return undefined;
  return { canceled: done.canceled, firstId: done.firstId, lastId: done.lastId, ids: done.ids, lines: capped.lines, prevLastId: done.prevLastId, usage };
}

/** The first update of a job on this server, or one after someone else wrote to it: read the job under its row lock. */
async function updateUnderLock(ctx: JobsContext, workerId: string, req: UpdateJobRequest, now: Date, early?: EarlyBatch): Promise<UpdateOutcome> {
  return inTx(ctx.pool, async (tx) => {
    // The row lock serialises this daemon's updates with a cancel or the reaper, and keeps the log budget exact.
    const job = await getProvisionerJobForUpdate(tx, req.job_id);
    assertOwnedAndOpen(job, workerId, req.job_id);
    // Lines a network daemon numbered and we already stored (its reply was lost, it sent them again) are dropped.
    const stored = job.log_seq ?? 0;
    const { fresh, maxSeq } = unstored(req.logs, stored);
    const capped = capWithEarly(job, fresh, req, early, ctx.options.maxJobLogBytes);
    const usage = { now, logsLength: capped.logsLength, logsOverflowed: capped.overflowed, logSeq: maxSeq };
    if (capped.lines.length === 0) {
      await updateProvisionerJobLogUsage(tx, job.id, usage);
      return { canceled: job.canceled_at !== null, firstId: null, lastId: null, ids: [] as number[], lines: capped.lines, prevLastId: job.last_log_id, usage };
    }
    const ids = await insertProvisionerJobLogsWithUsage(tx, job.id, capped.lines, usage);
    return { canceled: job.canceled_at !== null, firstId: ids[0] ?? null, lastId: ids[ids.length - 1] ?? null, ids, lines: capped.lines, prevLastId: job.last_log_id, usage };
  });
}

/**
 * A build's success with the daemon's last lines (`CompleteJobRequest.logs`) in ONE statement
 * (`completeBuildJobWithLines`): a batch of their own would cost a statement and a commit, and for a short build those
 * lines are all its lines. Only on the common path: the server remembers the job's log budget, no update of the job is
 * running here, nobody on this server follows its lines (they get lines from memory, which `updateJob` does), and
 * something is left to store. Undefined when it does not apply or the row did not match: nothing was written, and the
 * caller sends the lines by `updateJob` and completes the usual way. Announces the lines and the job's end once
 * committed.
 */
export async function completeBuildWithLines(
  ctx: JobsContext,
  workerId: string,
  jobId: string,
  logs: JobLog[],
  state: Buffer,
  next?: CompleteBuildJobParams['next'],
  /** Told of the job taken for `next` once committed, before the lines and the end are announced (one flush for all). */
  taken?: (job: AcquiredJobRow) => void,
): Promise<CompletedBuild | undefined> {
  const known = remembered(ctx).get(jobId);
  if (!known || known.workerId !== workerId || known.overflowed || tails(ctx).has(jobId) || hasLocalJobLogListeners(ctx.pubsub, jobId)) return undefined;
  const { fresh, maxSeq } = unstored(logs, known.logSeq);
  const capped = capLogs({ logs_length: known.logsLength, logs_overflowed: false }, fresh, ctx.options.maxJobLogBytes);
  if (capped.lines.length === 0) return undefined;
  const now = ctx.clock.now();
  const done = await completeBuildJobWithLines(ctx.pool, {
    jobId, workerId, now, state, next, lines: capped.lines, expected: known,
    usage: { now, logsLength: capped.logsLength, logsOverflowed: capped.overflowed, logSeq: maxSeq },
  });
  if (!done) return undefined;
  remembered(ctx).delete(jobId);
  if (done.next) taken?.(done.next);
  // Published in one turn, so they leave together: the lines, then the job's end.
  void publishLogs(ctx, jobId, { created_after: done.first_id - 1, last_id: done.last_id, origin: localOrigin(ctx.pubsub) });
  await publishJobEnded(ctx, jobId, done.workspace_id);
  return { transition: done.transition, workspace_id: done.workspace_id, next: done.next };
}

/**
 * The lines not stored yet (a numbered line at or below the job's stored `log_seq` was stored: a daemon sent it again),
 * and the job's `log_seq` once these are stored.
 */
function unstored(logs: JobLog[], storedSeq: number): { fresh: JobLog[]; maxSeq: number } {
  return { fresh: logs.filter((l) => l.seq === undefined || l.seq > storedSeq), maxSeq: logs.reduce((m, l) => Math.max(m, l.seq ?? 0), storedSeq) };
}

/** A batch capped as if the job had logged nothing yet, and encoded (`encodeLines`), before its turn came. */
interface EarlyBatch {
  capped: CappedLogs;
}

function prepareEarly(ctx: JobsContext, req: UpdateJobRequest): EarlyBatch | undefined {
  // Numbered lines are filtered against what is stored, known only when the turn comes (network daemons send one
  // update at a time anyway).
  if (req.logs.some((l) => l.seq !== undefined)) return undefined;
  const capped = capLogs({ logs_length: 0, logs_overflowed: false }, req.logs, ctx.options.maxJobLogBytes);
  if (capped.overflowed) return undefined;
  encodeLines(capped.lines);
  return { capped };
}

/**
 * The cap for the job's budget now: the early work when it still holds (every line fits, as it did from zero),
 * otherwise done again.
 */
function capWithEarly(job: { logs_length: number; logs_overflowed: boolean }, fresh: JobLog[], req: UpdateJobRequest, early: EarlyBatch | undefined, maxBytes: number): CappedLogs {
  if (early && fresh.length === req.logs.length && !job.logs_overflowed && job.logs_length + early.capped.logsLength <= maxBytes) {
    return { lines: early.capped.lines, logsLength: job.logs_length + early.capped.logsLength, overflowed: false };
  }
  return capLogs(job, fresh, maxBytes);
}

/**
 * A job just acquired by `worker_id`: its budget as the acquiring statement returned it. Exact by the same rule as
 * every remembered budget: the one-statement path checks the row still says so.
 */
export function rememberAcquired(ctx: JobsContext, job: ProvisionerJobRow): void {
  if (!job.worker_id) return;
  remember(ctx, job.id, { workerId: job.worker_id, logsLength: job.logs_length, logSeq: job.log_seq ?? 0, overflowed: job.logs_overflowed });
}

/** An update of a job running on this server. */
interface Tail {
  /** Settles true once its lines are stored, false when it failed. */
  done: Promise<boolean>;
  settle: (ok: boolean) => void;
  /** Resolves once its statement was written (or it will write none that a later update could follow). */
  written: Promise<void>;
  wrote: () => void;
  /** Set when its statement went on the job's pipelined connection: the budget it leaves if it applies. */
  plan?: RememberedBudget;
}

function newTail(): Tail {
  const t = {} as Tail;
  t.done = new Promise<boolean>((resolve) => (t.settle = resolve));
  t.written = new Promise<void>((resolve) => (t.wrote = resolve));
  return t;
}

/** Per job, the update running on this server now (the newest). */
const running = new WeakMap<JobsContext, Map<string, Tail>>();

function tails(ctx: JobsContext): Map<string, Tail> {
  let m = running.get(ctx);
  if (!m) running.set(ctx, (m = new Map()));
  return m;
}

/** The job's pipelined connection: always the same one, so its batches run in the order they were written. */
function pipelineOf(ctx: JobsContext, jobId: string): Queryable | undefined {
  const pipes = ctx.logPipelines;
  if (!pipes || pipes.length === 0) return undefined;
  let h = 0;
  for (let i = 0; i < jobId.length; i++) h = (h * 31 + jobId.charCodeAt(i)) | 0;
  return pipes[Math.abs(h) % pipes.length];
}

type RememberedBudget = ExpectedLogBudget & { overflowed: boolean };

/** Jobs' log budgets as this server's last update left them; bounded (the oldest leaves first). */
const MAX_REMEMBERED_JOBS = 10_000;
const budgets = new WeakMap<JobsContext, Map<string, ExpectedLogBudget & { overflowed: boolean }>>();

function remembered(ctx: JobsContext): Map<string, ExpectedLogBudget & { overflowed: boolean }> {
  let m = budgets.get(ctx);
  if (!m) budgets.set(ctx, (m = new Map()));
  return m;
}

function remember(ctx: JobsContext, jobId: string, b: ExpectedLogBudget & { overflowed: boolean }): void {
  const m = remembered(ctx);
  m.delete(jobId);
  if (m.size >= MAX_REMEMBERED_JOBS) m.delete(m.keys().next().value as string);
  m.set(jobId, b);
}
