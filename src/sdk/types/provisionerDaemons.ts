import type { ProvisionerJobStatus } from './provisionerJobs.js';

/** Coder main's daemon status: `offline` when not seen for the stale interval, else `busy` while running a job. */
export type ProvisionerDaemonStatus = 'offline' | 'idle' | 'busy';

/** A job as a daemon row shows it (Coder's `ProvisionerDaemonJob`). */
export interface ProvisionerDaemonJob {
  id: string;
  status: ProvisionerJobStatus;
  template_name: string;
  template_icon: string;
  template_display_name: string;
}

/** Coder main's `ProvisionerDaemon`, plus kiln's `updated_at` and `current_job_id`. */
export interface ProvisionerDaemon {
  id: string;
  /** The zero UUID for built-in daemons, which serve every organization. */
  organization_id: string;
  /** Coder's pseudo-keys for daemons without one: built-in, psk, user-auth. */
  key_id: string;
  created_at: string;
  updated_at?: string;
  last_seen_at?: string;
  name: string;
  version: string;
  api_version: string;
  provisioners: string[];
  tags: Record<string, string>;
  key_name: string | null;
  status: ProvisionerDaemonStatus | null;
  current_job: ProvisionerDaemonJob | null;
  previous_job: ProvisionerDaemonJob | null;
  /** The job it is running now, if any (kiln's older field; same as `current_job.id`). */
  current_job_id?: string;
}

export interface ProvisionerDaemonsQuery {
  /** JSON object: daemons carrying all of these tags. */
  tags?: string;
  /** Comma-separated statuses. */
  status?: string;
  limit?: number;
}
