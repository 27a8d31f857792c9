import type { ProvisionerJobRow } from '../../db/queries/provisionerJobs.js';
import type { ProvisionerJob, ProvisionerJobInput, ProvisionerJobStatus } from '../../sdk/types/provisionerJobs.js';
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

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** The display names a job carries (Coder's `ProvisionerJobMetadata`); callers have them loaded already. */
export interface JobNames {
  templateVersionName: string;
  template?: { id: string; name: string; display_name: string; icon: string };
  workspace?: { id: string; name: string };
}

function jobInput(input: Record<string, unknown>): ProvisionerJobInput {
  const out: ProvisionerJobInput = {};
  if (typeof input.template_version_id === 'string') out.template_version_id = input.template_version_id;
  if (typeof input.workspace_build_id === 'string') out.workspace_build_id = input.workspace_build_id;
  return out;
}

export function convertProvisionerJob(j: ProvisionerJobRow, names: JobNames, queue?: { position: number; size: number }): ProvisionerJob {
  const status = jobStatus(j);
  // A pending job is in the queue, at least as its only member: a position read a moment before (or after) the job's
  // own row must not make it look like it is not queued at all.
  const position = status === 'pending' ? Math.max(1, queue?.position ?? 1) : 0;
  const size = status === 'pending' ? Math.max(position, queue?.size ?? 1) : 0;
  return {
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
    queue_position: position,
    queue_size: size,
    logs_overflowed: j.logs_overflowed,
    organization_id: j.organization_id,
    initiator_id: j.initiator_id,
    input: jobInput(j.input),
    type: j.type,
    metadata: {
      template_version_name: names.templateVersionName,
      template_id: names.template?.id ?? ZERO_UUID,
      template_name: names.template?.name ?? '',
      template_display_name: names.template?.display_name ?? '',
      template_icon: names.template?.icon ?? '',
      workspace_id: names.workspace?.id,
      workspace_name: names.workspace?.name,
    },
  };
}
