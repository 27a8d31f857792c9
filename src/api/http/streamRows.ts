import type { WebSocket } from 'ws';

import { backoffDelay } from '../../lib/backoff.js';
import { coerceError } from '../../lib/errors.js';
import type { ServerContext } from '../context.js';

/** Keeps proxies from closing an idle stream; Coder pings about this often. */
const PING_INTERVAL_MS = 15_000;
/** Rows per catch-up query, so a follower of a huge log never loads it all at once. */
const PAGE = 1_000;
/** A failed query (the database went away) is retried after this backoff, up to this ceiling, from the cursor. */
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 5_000;

/** A row as a follower sends it: its id (the cursor) and its wire shape. */
export interface StreamRow {
  id: number;
  wire: unknown;
}

/**
 * Rows inserted by this server, offered to its followers from memory. `prevLastId` is the newest id of the stream
 * before these rows: a follower that has sent exactly up to it can send them without a query.
 */
export interface LocalBatch {
  prevLastId: number;
  rows: StreamRow[];
}

/** An append-only table with increasing ids, a pubsub channel that hints at new rows, and a notion of "finished". */
export interface RowSource {
  /** For log lines. */
  label: string;
  channel: string;
  /** Whether no more rows can come. Read before the rows, so rows written before the end are in the next query. */
  finished(): Promise<boolean>;
  /** Rows with id > `after`, ascending, at most `limit`, already in wire shape. */
  rowsAfter(after: number, limit: number): Promise<StreamRow[]>;
  /**
   * Both of the above in one query (one snapshot, so "finished" covers every row it did not return after `after`):
   * a catch-up then costs one statement instead of two.
   */
  rowsAfterAndFinished?(after: number, limit: number): Promise<{ rows: StreamRow[]; finished: boolean }>;
  /** Known finished when the follow started (a job that completed stays completed): no query needed to learn it. */
  finishedAtStart?: boolean;
  /** Reads a notification: whether it says the stream ended, and the newest id it announces (saves queries). */
  readNotification?(payload: string): NotificationInfo;
  /** Subscribes to rows this server inserts (see LocalBatch); returns the unsubscribe. */
  local?(deliver: (batch: LocalBatch) => void): () => void;
}

/** What a notification says (`RowSource.readNotification`); empty when it says nothing but "look again". */
export interface NotificationInfo {
  ended?: boolean;
  lastId?: number;
  local?: boolean;
}

/** What a stream asks of each of its followers. */
interface Follower {
  /** Something may have changed at `at` (performance.now()): queries that started before it cannot answer. */
  wake(at: number): void;
  /** A notification on the channel, read once for all followers (`RowSource.readNotification`). */
  notified(n: NotificationInfo, at: number): void;
  offer(batch: LocalBatch, frames: string[]): void;
}

/**
 * The followers of one channel on this server share everything that does not depend on their cursor: ONE pubsub
 * subscription, ONE backstop timer, ONE local-feed subscription, and the queries in flight (after a flush, 100
 * followers of one build ask for the rows after the same cursor, and one query answers them all). A follower joins a
 * query only if it started after the wake-up that made the follower ask, so a shared answer is never older than what
 * the follower was told about.
 */
class Stream {
  readonly followers = new Set<Follower>();
  readonly inflight = new Map<string, Slot>();
  ready: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;
  #unlocal: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly ctx: ServerContext,
    readonly src: RowSource,
    private readonly onEmpty: () => void,
  ) {}

  start(): void {
    const wakeAll = () => {
      const at = performance.now();
      for (const f of [...this.followers]) f.wake(at);
    };
    // A safety net only: notifications drive delivery, this re-checks in case one was lost with a connection.
    this.#timer = setInterval(() => {
      statsOf(this.ctx).backstopTicks++;
      wakeAll();
    }, this.ctx.options.followBackstopMs);
    this.#unlocal = this.src.local?.((batch) => {
      // Serialized once for every follower.
      const frames = batch.rows.map((r) => JSON.stringify(r.wire) + '\n');
      for (const f of [...this.followers]) f.offer(batch, frames);
    });
    this.ready = this.ctx.pubsub
      .subscribe(this.src.channel, {
        message: (payload) => {
          const at = performance.now();
          // Read once, not once per follower: 100 followers of a build that logs a line every few ms parsed each
          // notification 100 times.
          const n = this.src.readNotification?.(payload) ?? {};
          for (const f of [...this.followers]) f.notified(n, at);
        },
        reset: wakeAll,
      })
      .then((unsubscribe) => {
        if (this.followers.size === 0 && !this.#timer) unsubscribe();
        else this.#unsubscribe = unsubscribe;
      });
    this.ready.catch(() => this.stop());
  }

  leave(f: Follower): void {
    if (this.followers.delete(f)) statsOf(this.ctx).followers--;
    if (this.followers.size === 0) this.stop();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#unlocal?.();
    this.#unlocal = undefined;
    this.onEmpty();
  }

  /**
   * The answer of a query for `key` that started at or after `notBefore`. A query running now that started before it
   * cannot answer; its callers then share the ONE query that starts once it is done, however many they are: followers
   * joining one by one would otherwise each start their own, and 100 of them at once is a burst of 100 queries.
   */
  async shared<T>(key: string, notBefore: number, run: () => Promise<T>): Promise<{ value: T; startedAt: number }> {
    let slot = this.inflight.get(key);
    if (!slot) this.inflight.set(key, (slot = {}));
    let flight: Flight;
    if (slot.current && slot.current.startedAt >= notBefore) flight = slot.current;
    else if (!slot.current) flight = this.#start(key, slot, run);
    else {
      const s = slot;
      const settled = s.current?.result.then(noop, noop);
      s.next ??= (settled ?? Promise.resolve()).then(() => {
        s.next = undefined;
        return this.#start(key, s, run);
      });
      flight = await s.next;
    }
    return { value: (await flight.result) as T, startedAt: flight.startedAt };
  }

  #start(key: string, slot: Slot, run: () => Promise<unknown>): Flight {
    const stats = statsOf(this.ctx);
    if (key === 'finished') stats.finishedQueries++;
    else stats.rowsQueries++;
    const flight: Flight = { startedAt: performance.now(), result: run() };
    slot.current = flight;
    const done = () => {
      if (slot.current !== flight) return;
      slot.current = undefined;
      if (!slot.next && this.inflight.get(key) === slot) this.inflight.delete(key);
    };
    flight.result.then(done, done);
    return flight;
  }
}

const noop = () => {};

/** A query shared by the followers of a stream (`Stream.shared`). */
interface Flight {
  startedAt: number;
  result: Promise<unknown>;
}

/** Per query key: the query running now, and the one its late callers wait for. */
interface Slot {
  current?: Flight;
  next?: Promise<Flight>;
}

const streamsByServer = new WeakMap<ServerContext, Map<string, Stream>>();

/** What the followers of this server cost the database, for tests and the benchmark. */
export interface StreamStats {
  followers: number;
  /** Followers that have not yet sent their backlog (subscribing, or the first query in flight). */
  backlogs: number;
  rowsQueries: number;
  finishedQueries: number;
  backstopTicks: number;
}
const statsByServer = new WeakMap<ServerContext, StreamStats>();
function statsOf(ctx: ServerContext): StreamStats {
  let s = statsByServer.get(ctx);
  if (!s) statsByServer.set(ctx, (s = { followers: 0, backlogs: 0, rowsQueries: 0, finishedQueries: 0, backstopTicks: 0 }));
  return s;
}
export function streamStats(ctx: ServerContext): Readonly<StreamStats> {
  return { ...statsOf(ctx) };
}

function joinStream(ctx: ServerContext, src: RowSource, f: Follower): Stream {
  let streams = streamsByServer.get(ctx);
  if (!streams) streamsByServer.set(ctx, (streams = new Map()));
  const map = streams;
  const stream = map.get(src.channel);
  if (!stream) {
    const s: Stream = new Stream(ctx, src, () => {
      if (map.get(src.channel) === s) map.delete(src.channel);
    });
    map.set(src.channel, s);
    s.followers.add(f);
    statsOf(ctx).followers++;
    s.start();
    return s;
  }
  stream.followers.add(f);
  statsOf(ctx).followers++;
  return stream;
}

/** Frames of rows read by a shared query, serialized once for every follower that sends them. */
const frames = new WeakMap<StreamRow, string>();
function frameOf(r: StreamRow): string {
  let s = frames.get(r);
  if (s === undefined) frames.set(r, (s = JSON.stringify(r.wire) + '\n'));
  return s;
}

/**
 * Streams rows over a WebSocket, gap-free and duplicate-free (deviation 7): subscribe first, then send the backlog
 * after the cursor, and on every notification query again from the highest id sent; rows this server inserted arrive
 * from memory when they follow the cursor directly. Closes with 1000 once the source is finished and every row was
 * sent. A failed query (the database restarting) is retried from the cursor; the socket stays open. One frame per
 * row: its JSON and a newline, as Coder's December 2022 encoder wrote.
 *
 * This is the single place where a follow starts (the top of this function) and ends (`finish`).
 */
export async function streamRows(ctx: ServerContext, socket: WebSocket, after: number | undefined, src: RowSource): Promise<void> {
  let lastId = after ?? 0;
  let ended = src.finishedAtStart === true;
  let closed = false;
  let running: Promise<void> | null = null;
  let again = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  /** When this follower last learned something may have changed; shared queries must start after it. */
  let wokenAt = performance.now();
  /** Set once subscribed: before that, the backlog query has not run and nothing may be sent. */
  let live = false;
  /** Local batches that came while a query was being sent; applied (or found missing) once it is done. */
  let held: { batch: LocalBatch; frames: string[] }[] = [];

  const finish = (code: number) => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    clearTimeout(retry);
    stream.leave(follower);
    if (socket.readyState === socket.OPEN) socket.close(code);
  };
  const sendFailed = (err?: Error) => {
    if (err) finish(1011);
  };

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
          /** The first page, when the query that read the end brought it. */
          let first: StreamRow[] | undefined;
          if (!finishedNow && src.rowsAfterAndFinished) {
            const cursor = lastId;
            const read = src.rowsAfterAndFinished.bind(src);
            const f = await stream.shared(`rows+finished|${cursor}`, since, () => read(cursor, PAGE));
            ({ finished: finishedNow, rows: first } = f.value);
            since = Math.max(since, f.startedAt);
          } else if (!finishedNow) {
            const f = await stream.shared(`finished`, since, () => src.finished());
            finishedNow = f.value;
            since = Math.max(since, f.startedAt);
          }
          for (;;) {
            if (closed) return;
            const cursor = lastId;
            const rows = first ?? (await stream.shared(`rows|${cursor}`, since, () => src.rowsAfter(cursor, PAGE))).value;
            first = undefined;
            if (closed) return;
            // Every frame of the page is handed to the socket before anything is awaited, and only rows after the
            // cursor (local rows may have moved it while the query ran).
            // Each frame but the page's last is sent with a callback (a socket closing meanwhile fails them all: one
            // promise per frame would leave all but one rejection unhandled).
            let lastFrame: string | undefined;
            for (const r of rows) {
              if (r.id <= lastId) continue;
              if (lastFrame !== undefined) socket.send(lastFrame, sendFailed);
              lastFrame = frameOf(r);
              lastId = r.id;
            }
            // One wait per page: a slow client holds back its own follower, not the others.
            if (lastFrame !== undefined && rows.length === PAGE) {
              const frame = lastFrame;
              await new Promise<void>((resolve, reject) => socket.send(frame, (err) => (err ? reject(err) : resolve())));
            } else if (lastFrame !== undefined) socket.send(lastFrame, sendFailed);
            if (rows.length < PAGE) break;
          }
          failures = 0;
          if (finishedNow) {
            ended = true;
            finish(1000);
            return;
          }
        } while (again && !closed);
      } catch (e) {
        if (closed || socket.readyState !== socket.OPEN) {
          finish(1011);
          return;
        }
        // The database is unreachable (a restart, a failover): keep the socket and try again from the cursor.
        const delay = backoffDelay(failures++, RETRY_BASE_MS, RETRY_MAX_MS);
        ctx.logger.debug({ err: coerceError(e).message, retry_ms: delay }, `${src.label} follower query failed; retrying`);
        clearTimeout(retry);
        retry = setTimeout(() => follower.wake(performance.now()), delay);
      } finally {
        running = null;
        const later = held;
        held = [];
        for (const h of later) follower.offer(h.batch, h.frames);
      }
    })();
    return running;
  };

  const follower: Follower = {
    wake(at) {
      if (closed || !live) return;
      wokenAt = at;
      void drain();
    },
    notified(n, at) {
      if (n.ended) ended = true;
      // Lines this follower already sent, or that this server inserted (they come from memory), need no query. If the
      // memory path ever missed a batch, the next batch's gap check or the backstop finds it.
      if (!n.ended && ((n.lastId !== undefined && lastId >= n.lastId) || n.local)) return;
      follower.wake(at);
    },
    offer(batch, batchFrames) {
      if (closed || !live) return;
      const lastRow = batch.rows[batch.rows.length - 1];
      if (!lastRow || lastId >= lastRow.id) return;
      if (running) {
        held.push({ batch, frames: batchFrames });
        return;
      }
      if (lastId < batch.prevLastId) {
        // Lines are missing before this batch (written through another replica): the query path catches up.
        follower.wake(performance.now());
        return;
      }
      batch.rows.forEach((r, i) => {
        if (r.id <= lastId) return;
        socket.send(batchFrames[i] as string, sendFailed);
        lastId = r.id;
      });
    },
  };

  const stream = joinStream(ctx, src, follower);
  const stats = statsOf(ctx);
  stats.backlogs++;
  socket.on('close', () => finish(1000));
  socket.on('error', () => finish(1011));
  const ping = setInterval(() => socket.readyState === socket.OPEN && socket.ping(), PING_INTERVAL_MS);
  try {
    await stream.ready;
    if (closed) return;
    // Only queries that start after the subscription is live may serve this follower's backlog.
    live = true;
    follower.wake(performance.now());
    await running;
  } catch (e) {
    ctx.logger.warn({ err: coerceError(e).message }, `cannot watch ${src.label}`);
    finish(1011);
  } finally {
    stats.backlogs--;
  }
}
