import { inTx } from '../../db/pool.js';
import { getProvisionerJobForUpdate, updateProvisionerJobCanceled, type ProvisionerJobRow } from '../../db/queries/provisionerJobs.js';
import { coerceError } from '../../lib/errors.js';
import { JOB_CANCELED_CHANNEL, jobLogsChannel, workspaceChannel, type LogsNotification } from '../../jobs/channels.js';
import type { ServerContext } from '../context.js';
import { jobStatus } from '../convert/provisionerJobs.js';
import { ApiError, errors } from '../http/errors.js';

export type ExpectStatus = 'pending' | 'running';

/** Parses `?expect_status=`: absent is fine, anything but pending/running is a 400. */
export function parseExpectStatus(raw: unknown): ExpectStatus | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'pending' || raw === 'running') return raw;
  throw errors.badRequest(`Invalid expect_status "${String(raw)}". Only 'running' or 'pending' are allowed.`);
}

/**
 * Requests cancellation of a job, in a transaction that locks the job row (so a daemon completing it at the same
 * instant cannot interleave). A pending job is canceled at once and its log followers are told the logs ended; a
 * running job becomes `canceling` and its daemon is told through the cancel channel and its next heartbeat. A build's
 * workspace (`workspaceId`) is announced first, in the same flush: its watchers read `canceling` while the daemon is
 * only being told to stop.
 */
export async function cancelJob(ctx: ServerContext, jobId: string, expectStatus?: ExpectStatus, workspaceId?: string): Promise<ProvisionerJobRow> {
  const job = await inTx(ctx.pool, async (tx) => {
    const current = await getProvisionerJobForUpdate(tx, jobId);
    if (!current) throw errors.internal('Internal error fetching provisioner job.');
    if (current.completed_at) throw errors.badRequest('Job has already completed!');
    if (current.canceled_at) throw errors.badRequest('Job has already been marked as canceled!');
    if (expectStatus && jobStatus(current) !== expectStatus) throw new ApiError(412, 'Job is not in the expected state.');
    return updateProvisionerJobCanceled(tx, jobId, ctx.clock.now());
  });
  const publish = (channel: string, payload: string) =>
    ctx.pubsub.publish(channel, payload).catch((e) => ctx.logger.warn({ err: coerceError(e).message, channel }, 'publish failed'));
  const end: LogsNotification = { created_after: 0, end_of_logs: true };
  // Published in one turn, so they leave together, in this order.
  await Promise.all([
    ...(workspaceId ? [publish(workspaceChannel(workspaceId), '')] : []),
    job.completed_at ? publish(jobLogsChannel(job.id), JSON.stringify(end)) : publish(JOB_CANCELED_CHANNEL, job.id),
  ]);
  return job;
}
