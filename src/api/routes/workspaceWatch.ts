import type { FastifyReply, FastifyRequest } from 'fastify';

import { getWorkspaceByID, type WorkspaceRow } from '../../db/queries/workspaces.js';
import { coerceError } from '../../lib/errors.js';
import { workspaceChannel } from '../../jobs/channels.js';
import { renderWorkspaces } from '../builds/render.js';
import type { ServerContext } from '../context.js';
import { boundedWrite } from '../http/backpressure.js';
import { streamCaps } from '../http/streamCaps.js';
import { subjectOf } from '../middleware/apiKey.js';

const PING_MS = 15_000;

/**
 * `GET /workspaces/{id}/watch`: Server-Sent Events, one `data` event with the whole workspace now and after every
 * change notification. Changes that arrive while a render is in flight coalesce into one more render. Each watch takes
 * one of its user's watch slots; a client that stops reading is dropped once `MAX_UNSENT_BYTES` wait for it.
 */
export async function watchWorkspace(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, w: WorkspaceRow): Promise<void> {
  const caps = streamCaps(ctx);
  const release = caps.acquire(subjectOf(req).userId, 'watch');
  reply.hijack();
  const res = reply.raw;
  let closed = false;
  let unsubscribe: (() => void) | undefined;
  // eslint-disable-next-line prefer-const -- assigned once the stream is set up, cleared by stop() at any point
  let ping: NodeJS.Timeout | undefined;
  const stop = () => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    unsubscribe?.();
    release();
  };
  // Listen for the close before anything is awaited: a client gone during the subscribe must not leave it behind.
  req.raw.on('close', stop);
  res.on('close', stop);
  const write = (chunk: string) => {
    if (!boundedWrite(res, chunk, caps.maxUnsentBytes)) stop();
  };
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  write(':\n\n');
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
        if (!closed) write(`event: data\ndata: ${JSON.stringify(wire)}\n\n`);
      } while (again && !closed);
    } catch (e) {
      ctx.logger.debug({ err: coerceError(e).message }, 'workspace watch render failed');
    } finally {
      busy = false;
    }
  };
  try {
    const unsub = await ctx.pubsub.subscribe(workspaceChannel(w.id), { message: () => void send(), reset: () => void send() });
    if (closed) unsub();
    else unsubscribe = unsub;
  } catch (e) {
    ctx.logger.warn({ err: coerceError(e).message }, 'workspace watch could not subscribe');
    res.destroy();
    stop();
    return;
  }
  if (closed) return;
  ping = setInterval(() => write('event: ping\ndata: \n\n'), PING_MS);
  await send();
}
