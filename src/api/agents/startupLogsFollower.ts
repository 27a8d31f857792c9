import type { WebSocket } from 'ws';

import { getStartupLogs } from '../../db/queries/workspaceAgentStartupLogs.js';
import { getAgentByID } from '../../db/queries/workspaceAgents.js';
import { agentStartupLogsChannel } from '../../jobs/channels.js';
import { coerceError } from '../../lib/errors.js';
import type { ServerContext } from '../context.js';

import { convertStartupLog } from './startupLogs.js';

const PING_INTERVAL_MS = 15_000;
/** A safety net only: notifications drive delivery. */
const BACKSTOP_INTERVAL_MS = 5_000;
const PAGE = 1_000;

/** The startup script can no longer write: the log is complete once what was stored is sent. */
const DONE_STATES = new Set(['ready', 'start_error', 'start_timeout', 'shutting_down', 'shutdown_timeout', 'shutdown_error', 'off']);

/**
 * Streams an agent's startup log over a WebSocket the way build logs are followed (api/provisionerJobs/follower.ts):
 * subscribe first, then send the backlog after the cursor, then query again from the highest id sent on every
 * notification. Closes with 1000 once the agent has left `starting` and every line was sent.
 */
export async function followStartupLogs(ctx: ServerContext, socket: WebSocket, agentId: string, after: number | undefined): Promise<void> {
  let lastId = after ?? 0;
  let closed = false;
  let running: Promise<void> | null = null;
  let again = false;
  let unsubscribe: (() => void) | undefined;

  const finish = (code: number) => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    clearInterval(backstop);
    unsubscribe?.();
    if (socket.readyState === socket.OPEN) socket.close(code);
  };
  const send = (data: string) => new Promise<void>((resolve, reject) => socket.send(data, (err) => (err ? reject(err) : resolve())));

  const drain = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          // Read the lifecycle before the lines: lines written before it changed are then certainly in the query.
          const agent = await getAgentByID(ctx.pool, agentId);
          const done = !agent || DONE_STATES.has(agent.lifecycle_state);
          for (;;) {
            if (closed) return;
            const rows = await getStartupLogs(ctx.pool, agentId, { after: lastId, limit: PAGE });
            for (const r of rows) {
              if (closed) return;
              await send(JSON.stringify(convertStartupLog(r)) + '\n');
              lastId = r.id;
            }
            if (rows.length < PAGE) break;
          }
          if (done) {
            finish(1000);
            return;
          }
        } while (again && !closed);
      } catch (e) {
        ctx.logger.debug({ err: coerceError(e).message, agentId }, 'startup log follower stopped');
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
  try {
    unsubscribe = await ctx.pubsub.subscribe(agentStartupLogsChannel(agentId), { message: () => void drain(), reset: () => void drain() });
  } catch (e) {
    ctx.logger.warn({ err: coerceError(e).message }, 'cannot watch startup logs');
    finish(1011);
    return;
  }
  if (closed) {
    unsubscribe();
    return;
  }
  await drain();
}
