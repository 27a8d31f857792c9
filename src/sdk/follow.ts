import { SESSION_TOKEN_COOKIE, type HttpTransport } from './http.js';

export interface FollowOptions {
  /** Only lines with an id greater than this. */
  after?: number;
  signal?: AbortSignal;
}

/** What the stream ended with: 1000 when the server finished it normally. */
export interface FollowEnd {
  code: number;
  reason: string;
}

interface MinimalSocket {
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number): void;
}

type SocketFactory = (url: string, headers: Record<string, string>) => Promise<MinimalSocket>;

/** Browsers have WebSocket (and send the session cookie); in Node 20 the `ws` package is used with the token cookie. */
const openSocket: SocketFactory = async (url, headers) => {
  const g = globalThis as { WebSocket?: new (url: string) => MinimalSocket; document?: unknown };
  if (g.document && g.WebSocket) return new g.WebSocket(url);
  const { default: WS } = await import('ws');
  return new WS(url, { headers }) as unknown as MinimalSocket;
};

/**
 * Follows a log stream (`?follow`) over WebSocket. Yields each line once, in id order; ends when the server closes the
 * stream. The returned iterator's `end` promise tells how it closed.
 */
export function followJsonLines<T extends { id: number }>(http: HttpTransport, path: string, opts: FollowOptions = {}): AsyncIterable<T> & { end: Promise<FollowEnd> } {
  const url = http.url(path, { follow: true, after: opts.after });
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const queue: T[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: Error | null = null;
  let resolveEnd!: (e: FollowEnd) => void;
  const end = new Promise<FollowEnd>((r) => (resolveEnd = r));
  let lastId = opts.after ?? 0;
  let socket: MinimalSocket | null = null;

  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const headers: Record<string, string> = http.token ? { Cookie: `${SESSION_TOKEN_COOKIE}=${http.token}` } : {};
  const opened = openSocket(url.href, headers).then(
    (s) => {
      socket = s;
      s.onmessage = (ev) => {
        const text = typeof ev.data === 'string' ? ev.data : String(ev.data);
        const item = JSON.parse(text.trim()) as T;
        // Defensive de-duplication: never hand a caller the same line twice.
        if (item.id <= lastId) return;
        lastId = item.id;
        queue.push(item);
        notify();
      };
      s.onerror = (ev) => {
        const msg = (ev as { message?: string })?.message ?? 'websocket error';
        failure ??= new Error(msg);
      };
      s.onclose = (ev) => {
        finished = true;
        resolveEnd({ code: ev.code, reason: ev.reason });
        notify();
      };
      opts.signal?.addEventListener('abort', () => s.close(1000), { once: true });
    },
    (e: unknown) => {
      failure = e instanceof Error ? e : new Error(String(e));
      finished = true;
      resolveEnd({ code: 1006, reason: failure.message });
      notify();
    },
  );

  const iterable = {
    end,
    async *[Symbol.asyncIterator](): AsyncGenerator<T> {
      await opened;
      try {
        for (;;) {
          while (queue.length) yield queue.shift() as T;
          if (finished) {
            const e = await end;
            if (failure && e.code !== 1000) throw failure;
            if (e.code !== 1000 && e.code !== 1005) throw new Error(`log stream closed with code ${e.code}${e.reason ? `: ${e.reason}` : ''}`);
            return;
          }
          await new Promise<void>((r) => (wake = r));
        }
      } finally {
        if (!finished) (socket as MinimalSocket | null)?.close(1000);
      }
    },
  };
  return iterable;
}
