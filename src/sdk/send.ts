/**
 * One HTTP exchange as the SDK makes it: a request with its whole body, an answer read whole. Two ways to send one:
 * `fetch` (browsers, and a caller's own, such as the agent's unix socket), and node:http in Node (nodeSend.ts), which
 * costs the client about half the CPU of Node's fetch per request.
 */
export interface SendRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

export interface Reply {
  readonly status: number;
  readonly statusText: string;
  header(name: string): string | null;
  text(): Promise<string>;
  bytes(): Promise<Uint8Array>;
}

export type Send = (req: SendRequest) => Promise<Reply>;

/** Sends through a `fetch`. */
export function sendWithFetch(f: typeof fetch): Send {
  return async (r) => {
    const res = await f(r.url, { method: r.method, headers: r.headers, body: r.body as RequestInit['body'], signal: r.signal });
    return {
      status: res.status,
      statusText: res.statusText,
      header: (name) => res.headers.get(name),
      text: () => res.text(),
      bytes: async () => new Uint8Array(await res.arrayBuffer()),
    };
  };
}
