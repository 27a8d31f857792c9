import type { WebSocket } from 'ws';

import { getProvisionerJobByID, getProvisionerJobLogs, getProvisionerJobLogsAndEnd, type ProvisionerJobLogRow } from '../../db/queries/provisionerJobs.js';
import { jobLogsChannel, type LogsNotification } from '../../jobs/channels.js';
import { localOrigin, onLocalJobLogs } from '../../jobs/localLogFeed.js';
import type { ServerContext } from '../context.js';
import { convertProvisionerJobLog } from '../convert/provisionerJobLogs.js';
import { streamRows } from '../http/streamRows.js';

import type { JobLogsTarget } from './logs.js';

/**
 * Streams a job's log lines (see streamRows); the stream ends once the job has completed by any path. Lines a daemon
 * sends through this server reach its followers from memory (src/jobs/localLogFeed.ts).
 */
export function followJobLogs(ctx: ServerContext, socket: WebSocket, job: JobLogsTarget, after: number | undefined): Promise<void> {
  const origin = localOrigin(ctx.pubsub);
  const jobId = job.id;
  const toStreamRow = (r: ProvisionerJobLogRow) => ({ id: r.id, wire: convertProvisionerJobLog(r) });
  return streamRows(ctx, socket, after, {
    label: 'provisioner logs',
    channel: jobLogsChannel(jobId),
    finishedAtStart: job.completed_at !== null,
    finished: async () => !!(await getProvisionerJobByID(ctx.pool, jobId))?.completed_at,
    rowsAfter: async (cursor, limit) => (await getProvisionerJobLogs(ctx.pool, jobId, { after: cursor, limit })).map(toStreamRow),
    rowsAfterAndFinished: async (cursor, limit) => {
      const r = await getProvisionerJobLogsAndEnd(ctx.pool, jobId, cursor, limit);
      return { finished: r.completed, rows: r.rows.map(toStreamRow) };
    },
    readNotification(payload) {
      try {
        const n = JSON.parse(payload) as LogsNotification;
        return { ended: !!n.end_of_logs, lastId: typeof n.last_id === 'number' ? n.last_id : undefined, local: n.origin === origin };
      } catch {
        return {}; // A malformed hint still means "look again".
      }
    },
    local: (deliver) =>
      onLocalJobLogs(ctx.pubsub, jobId, (b) => deliver({ prevLastId: b.prevLastId, rows: b.rows.map((r) => ({ id: r.id, wire: convertProvisionerJobLog(r) })) })),
  });
}
