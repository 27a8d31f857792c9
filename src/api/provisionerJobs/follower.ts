import type { WebSocket } from 'ws';

import { getProvisionerJobByID, getProvisionerJobLogs } from '../../db/queries/provisionerJobs.js';
import { coerceError } from '../../lib/errors.js';
import { jobLogsChannel, type LogsNotification } from '../../jobs/channels.js';
import type { ServerContext } from '../context.js';
import { convertProvisionerJobLog } from '../convert/provisionerJobLogs.js';

/** Keeps proxies from closing an idle stream; Coder pings about this often. */
const PING_INTERVAL_MS = 15_000;
/** A safety net only: notifications drive delivery, this re-checks in case one was lost with a connection. */
const BACKSTOP_INTERVAL_MS = 5_000;
/** Lines per catch-up query, so a follower of a huge log never loads it all at once. */
const PAGE = 1_000;

/**
 * Streams a job's log lines over a WebSocket, gap-free and duplicate-free (deviation 7):
 * subscribe first, then re-read the job, send the backlog after the cursor, and on every notification query again
 * from the highest id sent. Closes with 1000 once the job has ended and every line was sent.
 */
export async function followJobLogs(ctx: ServerContext, socket: WebSocket, jobId: string, after: number | undefined): Promise<void> {
  let lastId = after ?? 0;
  let ended = false;
  let closed = false;
  let running: Promise<void> | null = null;
  let again = false;

  const finish = (code: number) => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    clearInterval(backstop);
    unsubscribe?.();
    if (socket.readyState === socket.OPEN) socket.close(code);
  };

  const send = (data: string) =>
    new Promise<void>((resolve, reject) => socket.send(data, (err) => (err ? reject(err) : resolve())));

  /** Sends everything after `lastId`; closes when the job has ended. Runs one at a time; requests coalesce. */
  const drain = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          // Read "ended" before the lines: lines written before the end are then certainly in the query below.
          const endedNow = ended || !!(await getProvisionerJobByID(ctx.pool, jobId))?.completed_at;
          for (;;) {
            if (closed) return;
            const rows = await getProvisionerJobLogs(ctx.pool, jobId, { after: lastId, limit: PAGE });
            for (const r of rows) {
              if (closed) return;
              await send(JSON.stringify(convertProvisionerJobLog(r)) + '\n');
              lastId = r.id;
            }
            if (rows.length < PAGE) break;
          }
          if (endedNow) {
            ended = true;
            finish(1000);
            return;
          }
        } while (again && !closed);
      } catch (e) {
        ctx.logger.debug({ err: coerceError(e).message, jobId }, 'log follower stopped');
        finish(1011);
      } finally {
        running = null;
      }
    })();
    return running;
  };

  socket.on('close', () => finish(1000));
  socket.on('error', () => finish(1011));
  const ping = setInterval(() => socket.readyState === socket.OPEN && socket.ping(), PING_INTERVAL_MS);
  const backstop = setInterval(() => void drain(), BACKSTOP_INTERVAL_MS);
  let unsubscribe: (() => void) | undefined;
  try {
    unsubscribe = await ctx.pubsub.subscribe(jobLogsChannel(jobId), {
      message(payload) {
        try {
          if ((JSON.parse(payload) as LogsNotification).end_of_logs) ended = true;
        } catch {
          // A malformed hint still means "look again".
        }
        void drain();
      },
      reset: () => void drain(),
    });
  } catch (e) {
    ctx.logger.warn({ err: coerceError(e).message }, 'cannot watch provisioner logs');
    finish(1011);
    return;
  }
  if (closed) {
    unsubscribe();
    return;
  }
  await drain();
}
