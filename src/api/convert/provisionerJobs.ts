import type { ProvisionerJobRow } from '../../db/queries/provisionerJobs.js';
import type { ProvisionerJob, ProvisionerJobStatus } from '../../sdk/types/provisionerJobs.js';
import type { WorkspaceStatus, WorkspaceTransition } from '../../sdk/types/workspaceBuilds.js';

import { optionalTime, rfc3339 } from './time.js';

type JobTimes = Pick<ProvisionerJobRow, 'started_at' | 'completed_at' | 'canceled_at' | 'error'>;

/**
 * A job's status, derived from its timestamps (reference §3.1, Jan-23 rules). There is no read-time "stale" rule:
 * hung jobs are really failed by the reaper, so what the table says is what the API says.
 */
export function jobStatus(j: JobTimes): ProvisionerJobStatus {
  const failed = !!j.error;
  if (j.canceled_at) {
    if (!j.completed_at) return 'canceling';
    return failed ? 'failed' : 'canceled';
  }
  if (!j.started_at) return j.completed_at ? (failed ? 'failed' : 'succeeded') : 'pending';
  if (j.completed_at) return failed ? 'failed' : 'succeeded';
  return 'running';
}

/** A build's status from its job's status and its transition (reference §3.2). */
export function buildStatus(job: ProvisionerJobStatus, transition: WorkspaceTransition): WorkspaceStatus {
  switch (job) {
    case 'pending':
      return 'pending';
    case 'running':
      return transition === 'start' ? 'starting' : transition === 'stop' ? 'stopping' : 'deleting';
    case 'succeeded':
      return transition === 'start' ? 'running' : transition === 'stop' ? 'stopped' : 'deleted';
    case 'canceling':
      return 'canceling';
    case 'canceled':
      return 'canceled';
    default:
      return 'failed';
  }
}

/** True while a job can still change: the states that block a new build (409). */
export function isActiveJobStatus(s: ProvisionerJobStatus): boolean {
  return s === 'pending' || s === 'running' || s === 'canceling';
}

export function convertProvisionerJob(j: ProvisionerJobRow, queue?: { position: number; size: number }): ProvisionerJob {
  const status = jobStatus(j);
  const out: ProvisionerJob = {
    id: j.id,
    created_at: rfc3339(j.created_at),
    started_at: optionalTime(j.started_at),
    completed_at: optionalTime(j.completed_at),
    canceled_at: optionalTime(j.canceled_at),
    error: j.error || undefined,
    status,
    worker_id: j.worker_id ?? undefined,
    file_id: j.file_id,
    tags: j.tags,
    queue_position: status === 'pending' ? (queue?.position ?? 0) : 0,
    queue_size: status === 'pending' ? (queue?.size ?? 0) : 0,
    logs_overflowed: j.logs_overflowed,
  };
  return out;
}
