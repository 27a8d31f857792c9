import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

import { getWorkspaceByID, type WorkspaceRow } from '../../db/queries/workspaces.js';
import { coerceError } from '../../lib/errors.js';
import { workspaceChannel } from '../../jobs/channels.js';
import type { Workspace } from '../../sdk/types/workspaces.js';
import { renderWorkspaces } from '../builds/render.js';
import type { ServerContext } from '../context.js';

const PING_MS = 15_000;

/**
 * Renders the workspace now and after every change notification, handing each rendering to `emit`. Changes that
 * arrive while a render is in flight coalesce into one more render. Returns the function that stops watching.
 */
async function watch(ctx: ServerContext, w: WorkspaceRow, emit: (wire: Workspace) => void, ping: () => void): Promise<() => void> {
  let closed = false;
  let busy = false;
  let again = false;
  const send = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const fresh = await getWorkspaceByID(ctx.pool, w.id);
        if (!fresh || closed) return;
        const [wire] = await renderWorkspaces(ctx, [fresh]);
        if (!closed && wire) emit(wire);
      } while (again && !closed);
    } catch (e) {
      ctx.logger.debug({ err: coerceError(e).message }, 'workspace watch render failed');
    } finally {
      busy = false;
    }
  };
  const pinger = setInterval(ping, PING_MS);
  const unsubscribe = await ctx.pubsub.subscribe(workspaceChannel(w.id), { message: () => void send(), reset: () => void send() });
  void send();
  return () => {
    if (closed) return;
    closed = true;
    clearInterval(pinger);
    unsubscribe();
  };
}

/** `GET /workspaces/{id}/watch`: Server-Sent Events, one `data` event with the whole workspace now and after every change. */
export async function watchWorkspace(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, w: WorkspaceRow): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.write(':\n\n');
  const stop = await watch(
    ctx,
    w,
    (wire) => res.write(`event: data\ndata: ${JSON.stringify(wire)}\n\n`),
    () => res.write('event: ping\ndata: \n\n'),
  );
  req.raw.on('close', stop);
  res.on('close', stop);
}

/**
 * `GET /workspaces/{id}/watch-ws`: the same events over a WebSocket, each a text frame holding Coder's
 * `ServerSentEvent` JSON: `{"type":"data","data":<workspace>}` and `{"type":"ping"}`.
 */
export async function watchWorkspaceWs(ctx: ServerContext, socket: WebSocket, w: WorkspaceRow): Promise<void> {
  const stop = await watch(
    ctx,
    w,
    (wire) => socket.send(JSON.stringify({ type: 'data', data: wire })),
    () => socket.send(JSON.stringify({ type: 'ping' })),
  );
  socket.on('close', stop);
  if (socket.readyState !== socket.OPEN) stop();
}
