import { inTx } from '../db/pool.js';
import { getProvisionerJobByID, getProvisionerJobForUpdate, touchProvisionerJob, updateProvisionerJobLogUsage } from '../db/queries/provisionerJobs.js';
import { insertProvisionerJobLogsWithUsage } from '../db/queries/provisionerJobLogs.js';
import { ProvisionerdError, type UpdateJobRequest, type UpdateJobResponse } from '../sdk/types/provisionerd.js';

import { jobLogsChannel } from './channels.js';
import type { JobsContext } from './context.js';
import { emitLocalJobLogs, localOrigin } from './localLogFeed.js';
import { capLogs } from './logCap.js';
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
  const result = await inTx(ctx.pool, async (tx) => {
    // The row lock serialises this daemon's updates with a cancel or the reaper, and keeps the log budget exact.
    const job = await getProvisionerJobForUpdate(tx, req.job_id);
    assertOwnedAndOpen(job, workerId, req.job_id);
    // Lines a network daemon numbered and we already stored (its reply was lost, it sent them again) are dropped.
    const stored = job.log_seq ?? 0;
    const fresh = req.logs.filter((l) => l.seq === undefined || l.seq > stored);
    const maxSeq = req.logs.reduce((m, l) => Math.max(m, l.seq ?? 0), 0);
    const capped = capLogs(job, fresh, ctx.options.maxJobLogBytes);
    const usage = { now, logsLength: capped.logsLength, logsOverflowed: capped.overflowed, logSeq: maxSeq };
    if (capped.lines.length === 0) {
      await updateProvisionerJobLogUsage(tx, job.id, usage);
      return { canceled: job.canceled_at !== null, ids: [] as number[], lines: capped.lines, prevLastId: job.last_log_id };
    }
    const ids = await insertProvisionerJobLogsWithUsage(tx, job.id, capped.lines, usage, jobLogsChannel(job.id), localOrigin(ctx.pubsub));
    return { canceled: job.canceled_at !== null, ids, lines: capped.lines, prevLastId: job.last_log_id };
  });
  if (result.ids.length > 0) {
    // This server's followers get the lines from memory at once; the NOTIFY (sent at commit by the insert) tells the
    // other replicas, and followers here that could not take the batch.
    emitLocalJobLogs(ctx.pubsub, {
      jobId: req.job_id,
      prevLastId: result.prevLastId,
      rows: result.lines.map((l, i) => ({
        id: result.ids[i] as number, job_id: req.job_id, created_at: l.createdAt, source: l.source, level: l.level, stage: l.stage, output: l.output,
      })),
    });
  }
  return { canceled: result.canceled };
}
