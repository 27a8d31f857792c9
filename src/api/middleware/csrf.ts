import type { FastifyReply, FastifyRequest } from 'fastify';

import type { ServerContext } from '../context.js';
import { ApiError } from '../http/errors.js';

import { parseCookies, SESSION_COOKIE } from './apiKey.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery guard. A browser attaches the session cookie to any request a foreign page makes, and
 * `SameSite=Lax` does not help between ports of one host (they are the same site). So a request that carries the
 * session cookie and changes state (any method but GET/HEAD/OPTIONS), or opens a WebSocket, must come from kiln's own
 * origin: its `Origin` header is the access URL's origin (or the origin of the `Host` it was sent to), or, without
 * `Origin`, its `Sec-Fetch-Site` is `same-origin` or `none`. Requests with neither header are not from a browser's
 * cross-origin context and pass. Requests without the cookie (header or query token: the CLI, scripts, agents) are
 * never affected: a foreign page cannot attach those.
 *
 * The cookie is what `tokenFromRequest` reads first, so a request that carries it is authenticated by it.
 */
export function csrfGuard(ctx: ServerContext) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!carriesSessionCookie(req)) return;
    if (SAFE_METHODS.has(req.method) && !isWebSocketUpgrade(req)) return;
    const verdict = originVerdict(req, ctx.options.accessUrl);
    if (verdict !== 'ok') throw csrfRefused(verdict);
  };
}

export function carriesSessionCookie(req: FastifyRequest): boolean {
  return !!parseCookies(req.headers.cookie)[SESSION_COOKIE];
}

function isWebSocketUpgrade(req: FastifyRequest): boolean {
  const up = req.headers.upgrade;
  return typeof up === 'string' && up.toLowerCase() === 'websocket';
}

type Verdict = 'ok' | 'foreign-origin' | 'cross-site';

/** Whether a request comes from kiln's own origin, as the browser tells it. Exported for tests. */
export function originVerdict(req: Pick<FastifyRequest, 'headers' | 'protocol'>, accessUrl: string): Verdict {
  const origin = header(req, 'origin');
  if (origin !== undefined) {
    if (origin === originOf(accessUrl)) return 'ok';
    const host = header(req, 'host');
    if (host && origin === `${req.protocol}://${host.toLowerCase()}`) return 'ok';
    return 'foreign-origin';
  }
  const site = header(req, 'sec-fetch-site');
  if (site === undefined || site === 'same-origin' || site === 'none') return 'ok';
  return 'cross-site';
}

function header(req: Pick<FastifyRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined ? undefined : s.trim().toLowerCase();
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin.toLowerCase();
  } catch {
    return undefined;
  }
}

function csrfRefused(v: Exclude<Verdict, 'ok'>): ApiError {
  const why =
    v === 'foreign-origin'
      ? 'The request carries the session cookie but its Origin is not this deployment.'
      : 'The request carries the session cookie but the browser says it is cross-site (Sec-Fetch-Site).';
  return new ApiError(403, 'Cross-origin request refused.', `${why} Send the token in the Coder-Session-Token header instead.`);
}
