import type { ProvisionerJobRow } from '../db/queries/provisionerJobs.js';
import { ProvisionerdError } from '../sdk/types/provisionerd.js';

/** A daemon may only report on a job it acquired and that is still open (reference §7.6, §7.9). */
export function assertOwnedAndOpen(job: ProvisionerJobRow | undefined, workerId: string, jobId: string): asserts job is ProvisionerJobRow {
  if (!job) throw new ProvisionerdError('not_found', `job ${jobId} does not exist`);
  if (!job.worker_id || !job.started_at) throw new ProvisionerdError('not_running', "job isn't running yet");
  if (job.worker_id !== workerId) throw new ProvisionerdError('not_owner', "you don't own this job");
  if (job.completed_at) throw new ProvisionerdError('already_completed', 'job already completed');
}
