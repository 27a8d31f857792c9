import type { WebSocket } from 'ws';

import { markAgentConnected, markAgentDisconnected, touchAgentConnection, type AgentWithBuild } from '../../db/queries/workspaceAgents.js';
import { workspaceChannel } from '../../jobs/channels.js';
import { coerceError } from '../../lib/errors.js';
import type { ServerContext } from '../context.js';

export function publishWorkspace(ctx: ServerContext, workspaceId: string): void {
  ctx.pubsub.publish(workspaceChannel(workspaceId)).catch((e: unknown) => ctx.logger.warn({ err: coerceError(e).message }, 'publish failed'));
}

/**
 * An agent's connection (reference §9.2): the socket being open is what "connected" means. Open sets
 * first/last_connected_at, every `agentConnectionUpdateMs` refreshes last_connected_at (and pings, so a dead peer is
 * noticed), close sets disconnected_at. Each transition publishes the workspace channel so watchers re-read.
 */
export function coordinate(ctx: ServerContext, socket: WebSocket, agent: AgentWithBuild): void {
  const log = ctx.logger.child({ agentId: agent.id, workspaceId: agent.workspace_id });
  let closed = false;
  let alive = true;
  // Writes run in order: a close racing the open's write must not land first and leave the agent "connected".
  let chain: Promise<void> = Promise.resolve();
  const write = (what: string, fn: () => Promise<void>) => {
    chain = chain.then(fn).catch((e: unknown) => log.warn({ err: coerceError(e).message }, `agent connection: could not record ${what}`));
    return chain;
  };

  write('connect', async () => {
    await markAgentConnected(ctx.pool, agent.id, ctx.clock.now());
    publishWorkspace(ctx, agent.workspace_id);
  });
  log.debug('agent connected');

  const timer = setInterval(() => {
    if (!alive) {
      // No pong since the last tick: the peer is gone without a close (network cut, process frozen).
      socket.terminate();
      return;
    }
    alive = false;
    if (socket.readyState === socket.OPEN) socket.ping();
    void write('heartbeat', () => touchAgentConnection(ctx.pool, agent.id, ctx.clock.now()));
  }, ctx.options.agentConnectionUpdateMs);
  socket.on('pong', () => (alive = true));
  // The agent sends nothing meaningful yet; messages are read and dropped so the socket never backs up.
  socket.on('message', () => (alive = true));

  const onClose = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    log.debug('agent disconnected');
    void write('disconnect', async () => {
      await markAgentDisconnected(ctx.pool, agent.id, ctx.clock.now());
      publishWorkspace(ctx, agent.workspace_id);
    });
  };
  socket.on('close', onClose);
  socket.on('error', onClose);
}
