import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

import type { WorkspaceRow } from '../../db/queries/workspaces.js';
import { coerceError } from '../../lib/errors.js';
import { workspaceChannel } from '../../jobs/channels.js';
import type { Workspace } from '../../sdk/types/workspaces.js';
import { renderWorkspaces } from '../builds/render.js';
import type { ServerContext } from '../context.js';
import { boundedWrite } from '../http/backpressure.js';
import { streamCaps } from '../http/streamCaps.js';
import { subjectOf } from '../middleware/apiKey.js';

const PING_MS = 15_000;

interface Watch {
  /** Stops watching (idempotent); safe before the subscription is in place. */
  stop(): void;
}

/**
 * Renders the workspace now and after every change notification, handing each rendering to `emit`. Changes that
 * arrive while a render is in flight coalesce into one more render. The returned stop works at any moment: a client
 * gone while the subscription is being made never leaves it behind.
 */
function watch(ctx: ServerContext, w: WorkspaceRow, emit: (wire: Workspace) => void, ping: () => void, onStop: () => void): Watch {
  let closed = false;
  let busy = false;
  let again = false;
  let unsubscribe: (() => void) | undefined;
  let pinger: NodeJS.Timeout | undefined;
  const stop = () => {
    if (closed) return;
    closed = true;
    clearInterval(pinger);
    unsubscribe?.();
    onStop();
  };
  const send = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        // One statement: the workspace view, with its latest build.
        const [wire] = await renderWorkspaces(ctx, [w]);
        if (!closed && wire) emit(wire);
      } while (again && !closed);
    } catch (e) {
      ctx.logger.debug({ err: coerceError(e).message }, 'workspace watch render failed');
    } finally {
      busy = false;
    }
  };
  ctx.pubsub.subscribe(workspaceChannel(w.id), { message: () => void send(), reset: () => void send() }).then(
    (unsub) => {
      if (closed) return unsub();
      unsubscribe = unsub;
      pinger = setInterval(ping, PING_MS);
      void send();
    },
    (e: unknown) => {
      ctx.logger.warn({ err: coerceError(e).message }, 'workspace watch could not subscribe');
      stop();
    },
  );
  return { stop };
}

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
  // boundedWrite destroys a response that left too much unread; its 'close' then stops the watch.
  const write = (chunk: string) => void boundedWrite(res, chunk, caps.maxUnsentBytes);
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  write(':\n\n');
  const w1 = watch(
    ctx,
    w,
    (wire) => write(`event: data\ndata: ${JSON.stringify(wire)}\n\n`),
    () => write('event: ping\ndata: \n\n'),
    () => {
      release();
      // Also when the watch ends on its own (the subscription failed): the client must not wait on a dead stream.
      if (!res.destroyed) res.end();
    },
  );
  // The response's close, not the request's: a request emits 'close' as soon as its (empty) body has been read.
  res.on('close', w1.stop);
  req.raw.socket?.once('close', w1.stop);
  if (res.destroyed) w1.stop();
}

/**
 * `GET /workspaces/{id}/watch-ws`: the same events over a WebSocket, each a text frame holding Coder's
 * `ServerSentEvent` JSON: `{"type":"data","data":<workspace>}` and `{"type":"ping"}`. Bounded like the SSE form.
 */
export async function watchWorkspaceWs(ctx: ServerContext, req: FastifyRequest, socket: WebSocket, w: WorkspaceRow): Promise<void> {
  const caps = streamCaps(ctx);
  const release = caps.tryAcquire(subjectOf(req).userId, 'watch');
  if (!release) {
    socket.close(1008, 'too many watches');
    return;
  }
  const send = (data: string) => {
    if (socket.bufferedAmount > caps.maxUnsentBytes) {
      w1.stop();
      socket.terminate();
      return;
    }
    socket.send(data);
  };
  const w1 = watch(
    ctx,
    w,
    (wire) => send(JSON.stringify({ type: 'data', data: wire })),
    () => send(JSON.stringify({ type: 'ping' })),
    () => {
      release();
      if (socket.readyState === socket.OPEN) socket.close(1011);
    },
  );
  socket.on('close', w1.stop);
  if (socket.readyState !== socket.OPEN) w1.stop();
}
