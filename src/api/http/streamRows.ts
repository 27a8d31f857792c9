import type { WebSocket } from 'ws';

import { coerceError } from '../../lib/errors.js';
import type { ServerContext } from '../context.js';

/** Keeps proxies from closing an idle stream; Coder pings about this often. */
const PING_INTERVAL_MS = 15_000;
/** A safety net only: notifications drive delivery, this re-checks in case one was lost with a connection. */
const BACKSTOP_INTERVAL_MS = 5_000;
/** Rows per catch-up query, so a follower of a huge log never loads it all at once. */
const PAGE = 1_000;

/**
 * Queries in flight, shared by the followers of one stream: after a flush, 100 followers of one build all ask for the
 * rows after the same cursor, and one query answers them all. A follower joins a query only if it started after the
 * notification that woke the follower, so a shared answer can never be older than what the follower was told about.
 */
const inflightByServer = new WeakMap<ServerContext, Map<string, { startedAt: number; result: Promise<unknown> }>>();

async function shared<T>(ctx: ServerContext, key: string, notBefore: number, run: () => Promise<T>): Promise<{ value: T; startedAt: number }> {
  let inflight = inflightByServer.get(ctx);
  if (!inflight) inflightByServer.set(ctx, (inflight = new Map()));
  const map = inflight;
  let entry = map.get(key);
  if (!entry || entry.startedAt < notBefore) {
    const fresh = { startedAt: performance.now(), result: run() as Promise<unknown> };
    const done = () => {
      if (map.get(key) === fresh) map.delete(key);
    };
    fresh.result.then(done, done);
    map.set(key, fresh);
    entry = fresh;
  }
  return { value: (await entry.result) as T, startedAt: entry.startedAt };
}

/** An append-only table with increasing ids, a pubsub channel that hints at new rows, and a notion of "finished". */
export interface RowSource {
  /** For log lines. */
  label: string;
  channel: string;
  /** Whether no more rows can come. Read before the rows, so rows written before the end are in the next query. */
  finished(): Promise<boolean>;
  /** Rows with id > `after`, ascending, at most `limit`, already in wire shape. */
  rowsAfter(after: number, limit: number): Promise<{ id: number; wire: unknown }[]>;
  /** Reads a notification; true when it says the stream ended (saves a query). */
  endsStream?(payload: string): boolean;
}

/**
 * Streams rows over a WebSocket, gap-free and duplicate-free (deviation 7): subscribe first, then send the backlog
 * after the cursor, and on every notification query again from the highest id sent. Closes with 1000 once the source
 * is finished and every row was sent. One frame per row: its JSON and a newline, as Coder's December 2022 encoder wrote.
 */
export async function streamRows(ctx: ServerContext, socket: WebSocket, after: number | undefined, src: RowSource): Promise<void> {
  let lastId = after ?? 0;
  let ended = false;
  let closed = false;
  let running: Promise<void> | null = null;
  let again = false;
  let unsubscribe: (() => void) | undefined;
  /** When this follower last learned something may have changed; shared queries must start after it. */
  let wokenAt = performance.now();

  const finish = (code: number) => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    clearInterval(backstop);
    unsubscribe?.();
    if (socket.readyState === socket.OPEN) socket.close(code);
  };
  const send = (data: string) => new Promise<void>((resolve, reject) => socket.send(data, (err) => (err ? reject(err) : resolve())));

  /** Sends everything after `lastId`; closes when finished. Runs one at a time; requests coalesce. */
  const drain = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          // The end is read before the rows, and the rows query must start after that read: rows written before the
          // end are then certainly in it.
          let since = wokenAt;
          let finishedNow = ended;
          if (!finishedNow) {
            const f = await shared(ctx, `${src.channel}|finished`, since, () => src.finished());
            finishedNow = f.value;
            since = Math.max(since, f.startedAt);
          }
          for (;;) {
            if (closed) return;
            const cursor = lastId;
            const { value: rows } = await shared(ctx, `${src.channel}|${cursor}`, since, () => src.rowsAfter(cursor, PAGE));
            for (const r of rows) {
              if (closed) return;
              await send(JSON.stringify(r.wire) + '\n');
              lastId = r.id;
            }
            if (rows.length < PAGE) break;
          }
          if (finishedNow) {
            ended = true;
            finish(1000);
            return;
          }
        } while (again && !closed);
      } catch (e) {
        ctx.logger.debug({ err: coerceError(e).message }, `${src.label} follower stopped`);
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
  const wake = () => {
    wokenAt = performance.now();
    void drain();
  };
  const backstop = setInterval(wake, BACKSTOP_INTERVAL_MS);
  try {
    unsubscribe = await ctx.pubsub.subscribe(src.channel, {
      message(payload) {
        if (src.endsStream?.(payload)) ended = true;
        wake();
      },
      reset: wake,
    });
  } catch (e) {
    ctx.logger.warn({ err: coerceError(e).message }, `cannot watch ${src.label}`);
    finish(1011);
    return;
  }
  if (closed) {
    unsubscribe();
    return;
  }
  // Only queries that start after the subscription is live may serve this follower's backlog.
  wokenAt = performance.now();
  await drain();
}
