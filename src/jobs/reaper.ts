import { inTx } from '../db/pool.js';
import {
  getHungProvisionerJobs,
  getProvisionerJobForUpdateSkipLocked,
  getStalePendingProvisionerJobs,
  type ProvisionerJobRow,
  type WorkspaceBuildJobInput,
} from '../db/queries/provisionerJobs.js';
import { getLastProvisionerJobLogStage, insertProvisionerJobLogs } from '../db/queries/provisionerJobLogs.js';
import { getBuildJobTarget, getPreviousBuildState, updateWorkspaceBuildAfterJob, type BuildJobTarget } from '../db/queries/provisionerJobTargets.js';

import { logsNote, type JobsContext } from './context.js';
import { terminateJob } from './complete.js';

/** At most this many jobs of each kind per run; the next run takes the rest. */
const BATCH = 50;

export interface ReapResult {
  hung: string[];
  pending: string[];
}

type Kind = 'hung' | 'pending' | 'orphaned';

/**
 * Fails jobs that would otherwise never end (deviation 9; Coder's later "jobreaper"): running jobs whose daemon stopped
 * heartbeating for `jobHangTimeoutMs` (it died, or the server running it was killed), and pending jobs no daemon took
 * within `jobPendingTimeoutMs`. Each gets error log lines explaining why, in its last stage, then fails; a build that
 * lost its state gets the previous build's back; followers are told the logs ended.
 */
export async function reapJobs(ctx: JobsContext, now: Date = ctx.clock.now()): Promise<ReapResult> {
  const result: ReapResult = { hung: [], pending: [] };
  const hung = await getHungProvisionerJobs(ctx.pool, new Date(now.getTime() - ctx.options.jobHangTimeoutMs), BATCH);
  for (const job of hung) if (await reapOne(ctx, job.id, 'hung', now)) result.hung.push(job.id);
  const pending = await getStalePendingProvisionerJobs(ctx.pool, new Date(now.getTime() - ctx.options.jobPendingTimeoutMs), BATCH);
  for (const job of pending) if (await reapOne(ctx, job.id, 'pending', now)) result.pending.push(job.id);
  return result;
}

/**
 * Fails a job left running by a built-in daemon of this server's previous process, which died: the daemon cannot be
 * running it any more. Called at start-up, before this server's new daemons register.
 */
export async function failOrphanedJob(ctx: JobsContext, jobId: string, daemonName: string): Promise<boolean> {
  return reapOne(ctx, jobId, 'orphaned', ctx.clock.now(), daemonName);
}

function messages(kind: Kind, span: string, daemonName?: string): { line: string; error: string; log: string } {
  if (kind === 'orphaned') {
    const what = `kiln: the server running this build (daemon ${daemonName ?? '?'}) stopped unexpectedly`;
    return {
      line: `${what}; the build was failed when the server restarted.`,
      error: `${what} while the build was running; failed at restart.`,
      log: 'restart: failed a job left running by this server before it stopped unexpectedly',
    };
  }
  return {
    line: `kiln: Build has been detected as ${kind} for ${span} and will be terminated.`,
    error: `kiln: Build has been detected as ${kind} for ${span} and has been terminated by the reaper.`,
    log:
      kind === 'hung'
        ? `reaper: failed a running job whose daemon sent no heartbeat for ${span}`
        : `reaper: failed a job that no provisioner daemon took within ${span}`,
  };
}

async function reapOne(ctx: JobsContext, jobId: string, kind: Kind, now: Date, daemonName?: string): Promise<boolean> {
  const timeoutMs = kind === 'hung' ? ctx.options.jobHangTimeoutMs : kind === 'pending' ? ctx.options.jobPendingTimeoutMs : 0;
  const span = formatSpan(timeoutMs);
  const msg = messages(kind, span, daemonName);
  const out = await inTx(ctx.pool, async (tx) => {
    // SKIP LOCKED: a daemon completing the job right now (or another replica's reaper) wins; we look again next run.
    const job = await getProvisionerJobForUpdateSkipLocked(tx, jobId);
    if (!job || !stillReapable(job, kind, now, timeoutMs)) return undefined;
    const stage = (await getLastProvisionerJobLogStage(tx, job.id)) ?? 'Unknown';
    const lines = ['', '====================', msg.line, '====================', ''];
    const ids = await insertProvisionerJobLogs(
      tx,
      job.id,
      lines.map((output) => ({ createdAt: now, source: 'provisioner_daemon' as const, level: 'error' as const, stage, output })),
    );
    const target = job.type === 'workspace_build' ? await getBuildJobTarget(tx, (job.input as unknown as WorkspaceBuildJobInput).workspace_build_id) : undefined;
    // The new lines' notification goes first: a follower told the logs ended has them to read.
    await terminateJob(tx, { job, target }, now, msg.error, undefined, [logsNote(job.id, { created_after: (ids[0] as number) - 1 })]);
    if (target) await keepPreviousState(tx, target, now);
    return { job };
  });
  if (!out) return false;
  ctx.logger.warn(
    { job_id: jobId, worker_id: out.job.worker_id, kind, ...(daemonName ? { daemon: daemonName } : { timeout_ms: timeoutMs }), last_update: out.job.updated_at.toISOString() },
    msg.log,
  );
  return true;
}

function stillReapable(job: ProvisionerJobRow, kind: Kind, now: Date, timeoutMs: number): boolean {
  if (job.completed_at) return false;
  const cutoff = now.getTime() - timeoutMs;
  if (kind === 'orphaned') return job.started_at !== null;
  if (kind === 'hung') return job.started_at !== null && job.updated_at.getTime() < cutoff;
  return job.started_at === null && job.canceled_at === null && job.created_at.getTime() < cutoff;
}

/** A build whose state is empty takes the previous build's, so a reaped build does not lose track of what exists. */
async function keepPreviousState(tx: Parameters<typeof getBuildJobTarget>[0], target: BuildJobTarget, now: Date): Promise<void> {
  if (target.provisioner_state && target.provisioner_state.length > 0) return;
  const previous = await getPreviousBuildState(tx, target.workspace_id, target.build_number);
  if (previous) await updateWorkspaceBuildAfterJob(tx, { buildId: target.build_id, now, state: previous });
}

/** "5 minutes", "1 minute", "90 seconds". */
export function formatSpan(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) {
    const m = ms / 60_000;
    return `${m} minute${m === 1 ? '' : 's'}`;
  }
  const s = Math.round(ms / 1000);
  return `${s} second${s === 1 ? '' : 's'}`;
}
