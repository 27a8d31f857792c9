import type { FastifyReply, FastifyRequest } from 'fastify';

import { getWorkspaceByID, type WorkspaceRow } from '../../db/queries/workspaces.js';
import { coerceError } from '../../lib/errors.js';
import { workspaceChannel } from '../../jobs/channels.js';
import { renderWorkspaces } from '../builds/render.js';
import type { ServerContext } from '../context.js';

const PING_MS = 15_000;

/**
 * `GET /workspaces/{id}/watch`: Server-Sent Events, one `data` event with the whole workspace now and after every
 * change notification. Changes that arrive while a render is in flight coalesce into one more render.
 */
export async function watchWorkspace(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, w: WorkspaceRow): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.write(':\n\n');
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
        if (!closed) res.write(`event: data\ndata: ${JSON.stringify(wire)}\n\n`);
      } while (again && !closed);
    } catch (e) {
      ctx.logger.debug({ err: coerceError(e).message }, 'workspace watch render failed');
    } finally {
      busy = false;
    }
  };
  const ping = setInterval(() => res.write('event: ping\ndata: \n\n'), PING_MS);
  const unsubscribe = await ctx.pubsub.subscribe(workspaceChannel(w.id), { message: () => void send(), reset: () => void send() });
  const stop = () => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    unsubscribe();
  };
  req.raw.on('close', stop);
  res.on('close', stop);
  await send();
}
