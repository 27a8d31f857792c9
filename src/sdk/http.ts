import { SdkError } from './errors.js';
import { defaultSend } from './nodeSend.js';
import { sendWithFetch, type Reply, type Send } from './send.js';
import type { Response } from './types/response.js';

export const SESSION_TOKEN_COOKIE = 'coder_session_token';
export const SESSION_TOKEN_HEADER = 'Coder-Session-Token';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Raw bytes sent as-is with this content type (file uploads). */
  raw?: { data: Uint8Array; contentType: string };
  signal?: AbortSignal;
}

export interface HttpTransportOptions {
  /**
   * Sends every request through this function instead of the SDK's own (node:http in Node, fetch in browsers: send.ts):
   * the agent SDK passes one that speaks over a unix socket (see unixFetch.ts).
   */
  fetch?: typeof fetch;
}

/** The shared HTTP transport of the SDK: base URL, session token, JSON in and out, errors as SdkError. */
export class HttpTransport {
  readonly #send: Send;

  constructor(
    readonly baseUrl: URL,
    public token: string | undefined,
    o: HttpTransportOptions = {},
  ) {
    this.#send = o.fetch ? sendWithFetch(o.fetch) : defaultSend;
  }

  url(path: string, query?: Query): URL {
    const u = new URL(path.replace(/^\//, ''), this.baseUrl.href.endsWith('/') ? this.baseUrl : new URL(this.baseUrl.href + '/'));
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  async fetch(method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.token) headers[SESSION_TOKEN_HEADER] = this.token;
    let body: string | Uint8Array | undefined;
    if (opts.raw) {
      headers['Content-Type'] = opts.raw.contentType;
      body = opts.raw.data;
    } else if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const url = this.url(path, opts.query);
    const res = await this.#send({ method, url, headers, body, signal: opts.signal });
    if (res.status < 200 || res.status > 299) throw new SdkError(res.status, await readError(res), method, url.pathname);
    return res;
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.fetch(method, path, opts);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }
}

async function readError(res: Reply): Promise<Response> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as Partial<Response>;
    if (parsed && typeof parsed.message === 'string') return parsed as Response;
  } catch {
    // Not JSON: a proxy or a crash in front of the server; report what came back.
  }
  return { message: `Unexpected status code ${res.status}.`, detail: text.slice(0, 500) || res.statusText };
}
