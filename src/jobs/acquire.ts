import { acquireProvisionerJob, releaseProvisionerJob, releaseUntouchedJobsOfWorker, type AcquiredJobRow } from '../db/queries/provisionerJobs.js';

import { JOB_POSTED_CHANNEL, workspaceChannel } from './channels.js';
import { publish, type JobsContext } from './context.js';
import { rememberAcquired } from './update.js';

export interface AcquiringDaemon {
  id: string;
  provisioners: string[];
  tags: Record<string, string>;
  organizationId?: string | null;
}

/**
 * Takes the oldest job this daemon can run (ONE statement, see `acquireProvisionerJob`), or undefined when there is
 * none. A workspace build's payload is read by the same statement; once it has committed, the build's watchers are
 * told it started.
 */
export async function acquireJob(ctx: JobsContext, daemon: AcquiringDaemon): Promise<AcquiredJobRow | undefined> {
  const job = await acquireProvisionerJob(ctx.pool, {
    now: ctx.clock.now(),
    workerId: daemon.id,
    provisioners: daemon.provisioners,
    tags: daemon.tags,
    organizationId: daemon.organizationId,
  });
  if (job) tookJob(ctx, job);
  return job;
}

/**
 * What follows a committed acquisition, by `acquireJob` or by a daemon's success that took its next job
 * (src/jobs/complete.ts): the job's log budget is remembered as it was handed out (the daemon's first batch is then one
 * statement too, update.ts), and the build's watchers are told it started.
 */
export function tookJob(ctx: JobsContext, job: AcquiredJobRow): void {
  rememberAcquired(ctx, job);
  // Not awaited: the daemon starts on the job meanwhile (watchers re-read the build when told; a build whose payload
  // could not be read is failed, and that end is announced).
  if (job.buildPayload) void publish(ctx, workspaceChannel(job.buildPayload.workspace_id));
}

/**
 * Returns a job to the queue when it could not be handed to the daemon that took it (its connection closed in
 * between), and wakes the other daemons. A job that already wrote anything stays with its worker.
 */
export async function releaseJob(ctx: JobsContext, jobId: string, workerId: string): Promise<boolean> {
  const released = await releaseProvisionerJob(ctx.pool, jobId, workerId);
  if (released) await publish(ctx, JOB_POSTED_CHANNEL, jobId);
  return released;
}

/**
 * Returns to the queue the jobs a daemon that runs nothing took and never touched (a success that took its next job
 * committed, but its answer was lost), and wakes the other daemons.
 */
export async function releaseUntouchedJobs(ctx: JobsContext, workerId: string): Promise<void> {
  const released = await releaseUntouchedJobsOfWorker(ctx.pool, workerId);
  if (released.length > 0) await publish(ctx, JOB_POSTED_CHANNEL, released[0] as string);
}
