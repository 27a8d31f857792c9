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

export interface ProvisionerJobLog {
  id: number;
  created_at: string;
  log_source: LogSource;
  log_level: LogLevel;
  stage: string;
  output: string;
}

export type { ProvisionerDaemon } from './provisionerDaemons.js';
