import type { WebSocket } from 'ws';

import { getStartupLogs } from '../../db/queries/workspaceAgentStartupLogs.js';
import { getAgentByID } from '../../db/queries/workspaceAgents.js';
import { agentStartupLogsChannel } from '../../jobs/channels.js';
import type { ServerContext } from '../context.js';
import { streamRows } from '../http/streamRows.js';

import { convertStartupLog } from './startupLogs.js';

/** The startup script can no longer write: the log is complete once what was stored is sent. */
const DONE_STATES = new Set(['ready', 'start_error', 'start_timeout', 'shutting_down', 'shutdown_timeout', 'shutdown_error', 'off']);

/** Streams an agent's startup log as build logs are streamed; it ends once the agent has left `starting`. */
export function followStartupLogs(ctx: ServerContext, socket: WebSocket, agentId: string, after: number | undefined): Promise<void> {
  return streamRows(ctx, socket, after, {
    label: 'startup logs',
    channel: agentStartupLogsChannel(agentId),
    finished: async () => {
      const agent = await getAgentByID(ctx.pool, agentId);
      return !agent || DONE_STATES.has(agent.lifecycle_state);
    },
    rowsAfter: async (cursor, limit) => (await getStartupLogs(ctx.pool, agentId, { after: cursor, limit })).map((r) => ({ id: r.id, wire: convertStartupLog(r) })),
  });
}
