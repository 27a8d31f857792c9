import type { ProvisionerJob, ProvisionerJobStatus, Workspace, WorkspaceBuild, WorkspaceStatus } from '../sdk.js';

/** The few colours a status can take; badges and log stages use them. */
export type Tone = 'success' | 'danger' | 'warning' | 'info' | 'neutral';

const WORKSPACE_TONES: Record<WorkspaceStatus, Tone> = {
  running: 'success',
  pending: 'info',
  starting: 'info',
  stopping: 'info',
  deleting: 'info',
  canceling: 'warning',
  canceled: 'warning',
  failed: 'danger',
  stopped: 'neutral',
  deleted: 'neutral',
};

const JOB_TONES: Record<ProvisionerJobStatus, Tone> = {
  succeeded: 'success',
  pending: 'info',
  running: 'info',
  canceling: 'warning',
  canceled: 'warning',
  failed: 'danger',
};

export function workspaceTone(s: WorkspaceStatus): Tone {
  return WORKSPACE_TONES[s] ?? 'neutral';
}

export function jobTone(s: ProvisionerJobStatus): Tone {
  return JOB_TONES[s] ?? 'neutral';
}

/** A build is under way: its status will change without anyone doing anything. */
export function isTransitional(s: WorkspaceStatus): boolean {
  return s === 'pending' || s === 'starting' || s === 'stopping' || s === 'deleting' || s === 'canceling';
}

export function isJobActive(s: ProvisionerJobStatus): boolean {
  return s === 'pending' || s === 'running' || s === 'canceling';
}

export function isJobDone(job: ProvisionerJob): boolean {
  return job.status === 'succeeded' || job.status === 'failed' || job.status === 'canceled';
}

/** "2 of 5" while a job waits, when the API says where it stands. */
export function queueText(job: ProvisionerJob): string | null {
  if (job.status !== 'pending' || job.queue_position === undefined || job.queue_position <= 0) return null;
  return job.queue_size ? `${job.queue_position} of ${job.queue_size}` : String(job.queue_position);
}

/**
 * The workspace after the page created build `b`. The POST's answer is the build as it was created (pending); the
 * workspace watch can already have reported that build finished, or a later one, when a quick build ends before the
 * POST has answered. Then the page's copy is the fresher one and stays.
 */
export function withCreatedBuild(w: Workspace, b: WorkspaceBuild): Workspace {
  return w.latest_build.build_number >= b.build_number ? w : { ...w, latest_build: b };
}
