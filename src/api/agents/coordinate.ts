import type { WebSocket } from 'ws';

import { markAgentConnected, markAgentDisconnected, touchAgentConnection, type AgentWithBuild } from '../../db/queries/workspaceAgents.js';
import { workspaceChannel } from '../../jobs/channels.js';
import { coerceError } from '../../lib/errors.js';
import { TUNNEL_VERSION } from '../../sdk/tunnel/frames.js';
import { TunnelSession } from '../../sdk/tunnel/session.js';
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

  // The tunnel (docs/agent-protocol.md): binary messages are frames. An agent that never says HELLO is connected
  // all the same; it just cannot carry streams. Text messages are read and dropped so the socket never backs up.
  const tunnel = new TunnelSession({
    role: 'server',
    send: (frame) => {
      if (socket.readyState === socket.OPEN) socket.send(frame);
    },
    onHello: (version) => {
      if (version !== TUNNEL_VERSION) {
        log.warn({ version }, 'agent speaks an unknown tunnel version; its streams are off');
        return;
      }
      tunnel.hello();
      ctx.tunnels.register(agent.id, tunnel);
    },
  });
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    alive = true;
    if (!isBinary) return;
    try {
      tunnel.receive(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
    } catch (e) {
      log.warn({ err: coerceError(e).message }, 'agent broke the tunnel framing; closing its connection');
      socket.close(1002, 'tunnel protocol error');
    }
  });

  const onClose = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    ctx.tunnels.unregister(agent.id, tunnel);
    tunnel.close();
    log.debug('agent disconnected');
    void write('disconnect', async () => {
      await markAgentDisconnected(ctx.pool, agent.id, ctx.clock.now());
      publishWorkspace(ctx, agent.workspace_id);
    });
  };
  socket.on('close', onClose);
  socket.on('error', onClose);
}
