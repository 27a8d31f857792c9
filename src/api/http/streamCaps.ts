import { ApiError } from './errors.js';

/** Long-lived streams one user may hold open at once, by kind. */
export interface StreamLimits {
  /** Log follows (build logs, startup logs), SSE or WebSocket. */
  follow: number;
  /** Workspace watches (`GET /workspaces/{id}/watch`). */
  watch: number;
  /** Bytes a stream may hold unsent for a client that does not read before the client is dropped. */
  maxUnsentBytes: number;
}

export const defaultStreamLimits: StreamLimits = { follow: 64, watch: 32, maxUnsentBytes: 1024 * 1024 };

export type StreamKind = 'follow' | 'watch';

/**
 * Per-user counters of open streams. Every long-lived stream takes a slot before it subscribes to anything and gives
 * it back when it closes, so one user cannot hold thousands of followers (each a subscription and a share of the
 * pool's queries). One instance per server process: limits are per replica.
 */
export class StreamCaps {
  readonly #open = new Map<string, number>();

  constructor(private readonly limits: StreamLimits = defaultStreamLimits) {}

  /** Takes a slot, or returns undefined when the user already holds the maximum. The release is idempotent. */
  get maxUnsentBytes(): number {
    return this.limits.maxUnsentBytes;
  }

  tryAcquire(userId: string, kind: StreamKind): (() => void) | undefined {
    const key = `${kind}:${userId}`;
    const n = this.#open.get(key) ?? 0;
    if (n >= this.limits[kind]) return undefined;
    this.#open.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left <= 0) this.#open.delete(key);
      else this.#open.set(key, left);
    };
  }

  /** Like tryAcquire, but throws the 429 a route answers with. */
  acquire(userId: string, kind: StreamKind): () => void {
    const release = this.tryAcquire(userId, kind);
    if (!release) {
      throw new ApiError(429, `Too many open ${kind === 'follow' ? 'log follows' : 'workspace watches'}.`, `At most ${this.limits[kind]} per user; close one first.`);
    }
    return release;
  }

  openCount(userId: string, kind: StreamKind): number {
    return this.#open.get(`${kind}:${userId}`) ?? 0;
  }
}

const byContext = new WeakMap<object, StreamCaps>();

/** The server's stream counters, keyed by its context (created on first use with the context's limits). */
export function streamCaps(ctx: { options: { streamLimits?: StreamLimits } }): StreamCaps {
  let caps = byContext.get(ctx);
  if (!caps) {
    caps = new StreamCaps(ctx.options.streamLimits);
    byContext.set(ctx, caps);
  }
  return caps;
}

/**
 * For WebSocket follows: takes one of the user's `follow` slots for as long as the socket is open, or closes the
 * socket with 1008 (policy violation) when the user already holds the maximum. Returns whether the follow may go on.
 */
export function holdFollowSlot(
  ctx: { options: { streamLimits?: StreamLimits } },
  userId: string | undefined,
  socket: { once(event: 'close', fn: () => void): unknown; close(code?: number, reason?: string): void },
): boolean {
  if (!userId) return true;
  const release = streamCaps(ctx).tryAcquire(userId, 'follow');
  if (!release) {
    socket.close(1008, 'too many open log follows');
    return false;
  }
  socket.once('close', release);
  return true;
}
