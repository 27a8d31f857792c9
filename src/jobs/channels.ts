/**
 * Pubsub channels of the build engine. Payloads carry ids and cursors, never data: a listener re-reads the tables.
 */

/** A job was enqueued; idle daemons try to acquire. Payload: the job id. */
export const JOB_POSTED_CHANNEL = 'provisioner_job_posted';

/** New log lines of a job. Payload: `LogsNotification` as JSON. */
export function jobLogsChannel(jobId: string): string {
  return `provisioner-log-logs:${jobId}`;
}

export interface LogsNotification {
  /** Lines with an id greater than this were inserted. */
  created_after: number;
  /** The id of the newest line inserted: a follower that has sent it already needs no query. */
  last_id?: number;
  /** The server that inserted the lines; its own followers got them from memory. */
  origin?: string;
  /** The job reached a terminal state: followers send what is left and close. */
  end_of_logs?: boolean;
}

/** Something about a workspace changed (build created, job state, agent). Payload: empty. */
export function workspaceChannel(workspaceId: string): string {
  return `workspace:${workspaceId}`;
}

/** A job's cancel flag was set; its daemon can stop at once instead of waiting for the next heartbeat. Payload: job id. */
export const JOB_CANCELED_CHANNEL = 'provisioner_job_canceled';

/** New startup log lines of an agent. Payload: `LogsNotification` as JSON (end_of_logs once the agent left `starting`). */
export function agentStartupLogsChannel(agentId: string): string {
  // Short prefix: PostgreSQL truncates channel names to 63 bytes, and a uuid takes 36 of them.
  return `agent-startup-logs:${agentId}`;
}

/** A provisioner key was deleted: every replica disconnects the key's daemons. Payload: the key id. */
export const PROVISIONER_KEY_DELETED_CHANNEL = 'provisioner_key_deleted';
