import type { Pool, Queryable } from '../db/pool.js';
import type { Pubsub } from '../db/pubsub.js';
import type { Clock } from '../lib/clock.js';
import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

import { jobLogsChannel, workspaceChannel, type LogsNotification } from './channels.js';

/** What the queue needs; the server's context satisfies it. Timestamps come from `clock`, so tests can move time. */
export interface JobsContext {
  pool: Pool;
  /**
   * Connections in pipeline mode for jobs' log batches (src/jobs/update.ts), a job always on the same one; without
   * them every batch goes through the pool and waits for the answer to the one before.
   */
  logPipelines?: readonly Queryable[];
  pubsub: Pubsub;
  logger: Logger;
  clock: Clock;
  options: {
    /** A job's log lines are capped at this many bytes (deviation 12). */
    maxJobLogBytes: number;
    /** A running job with no heartbeat for this long is failed by the reaper. */
    jobHangTimeoutMs: number;
    /** A pending job no daemon took for this long is failed by the reaper. */
    jobPendingTimeoutMs: number;
  };
}

/**
 * Notifications are sent after the transaction commits (a listener re-reads the tables, so it must see the change).
 * A failed publish is logged, never thrown: the change is committed, and followers also re-read on reconnect.
 */
export async function publish(ctx: JobsContext, channel: string, payload = ''): Promise<void> {
  try {
    await ctx.pubsub.publish(channel, payload);
  } catch (e) {
    ctx.logger.warn({ channel, err: coerceError(e).message }, 'publish failed');
  }
}

export function publishLogs(ctx: JobsContext, jobId: string, n: LogsNotification): Promise<void> {
  const note = logsNote(jobId, n);
  return publish(ctx, note.channel, note.payload);
}

/** `publishLogs`' notification, for a transaction to send when it commits. */
export function logsNote(jobId: string, n: LogsNotification): { channel: string; payload: string } {
  return { channel: jobLogsChannel(jobId), payload: JSON.stringify(n) };
}

/**
 * A job reached a terminal state: the workspace changed, and every log follower must close (deviation 5). Every code
 * path that sets `completed_at` ends here, or sends the same notifications from its transaction (`jobEndedNotes`).
 */
export async function publishJobEnded(ctx: JobsContext, jobId: string, workspaceId?: string): Promise<void> {
  // Published together (they leave in this order, in one flush when nothing is on its way), then awaited.
  await Promise.all(jobEndedNotes(jobId, workspaceId).map((n) => publish(ctx, n.channel, n.payload)));
}

/** `publishJobEnded`'s notifications, for a transaction to send when it commits (src/db/queries/jobEnd.ts). */
export function jobEndedNotes(jobId: string, workspaceId?: string): { channel: string; payload: string }[] {
  const logs = jobEndedLogsNote(jobId);
  return [...(workspaceId ? [{ channel: workspaceChannel(workspaceId), payload: '' }] : []), { channel: logs.logsChannel, payload: logs.logsPayload }];
}

/** The notification that tells a job's log followers its logs ended (deviation 5). */
export function jobEndedLogsNote(jobId: string): { logsChannel: string; logsPayload: string } {
  const end: LogsNotification = { created_after: 0, end_of_logs: true };
  return { logsChannel: jobLogsChannel(jobId), logsPayload: JSON.stringify(end) };
}
