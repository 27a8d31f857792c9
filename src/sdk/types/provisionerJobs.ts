/**
 * Terminology.
 * - provisioner job: one unit of work for a provisioner daemon (a template import or a workspace build).
 * - provisioner daemon: a process that acquires jobs, one at a time, and runs them with a provisioner plugin.
 * - provisioner: the plugin that does the work (echo, local, terraform).
 */
export type ProvisionerJobStatus = 'pending' | 'running' | 'succeeded' | 'canceling' | 'canceled' | 'failed';
export type ProvisionerType = 'echo' | 'local' | 'terraform';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogSource = 'provisioner_daemon' | 'provisioner';

export interface ProvisionerJob {
  id: string;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  canceled_at?: string;
  error?: string;
  status: ProvisionerJobStatus;
  worker_id?: string;
  file_id: string;
  tags: Record<string, string>;
  /** Later-Coder fields, kept because they add information. */
  queue_position?: number;
  queue_size?: number;
  logs_overflowed?: boolean;
}

/**
 * How many provisioner daemons could run a job (later Coder's `matched_provisioners`): `count` registered daemons offer
 * its provisioner and tags, `available` of them were seen recently, `most_recently_seen` is the latest of their
 * heartbeats (null when none). Present on builds and template versions while their job is pending; `count = 0` means
 * no daemon will ever take the job until one that can is started.
 */
export interface MatchedProvisioners {
  count: number;
  available: number;
  most_recently_seen: string | null;
}

export interface ProvisionerJobLog {
  id: number;
  created_at: string;
  log_source: LogSource;
  log_level: LogLevel;
  stage: string;
  output: string;
}

export interface ProvisionerDaemon {
  id: string;
  created_at: string;
  updated_at?: string;
  last_seen_at?: string;
  name: string;
  provisioners: ProvisionerType[] | string[];
  tags: Record<string, string>;
  /** The job it is running now, if any. */
  current_job_id?: string;
}
