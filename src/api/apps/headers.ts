import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

import { PATH_APP_COOKIE, SUBDOMAIN_APP_COOKIE } from '../../sdk/apps.js';
import { SESSION_COOKIE, SESSION_HEADER } from '../middleware/apiKey.js';

/** Cookies that carry kiln credentials: none of them ever reaches an app, nor may an app set one. */
export function isKilnCookie(name: string): boolean {
  const n = name.trim().toLowerCase();
  return n === SESSION_COOKIE || n.startsWith(SUBDOMAIN_APP_COOKIE) || n === PATH_APP_COOKIE || n === 'coder_signed_app_token';
}

/** The Cookie header without kiln's cookies (undefined when nothing is left). */
export function stripKilnCookies(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p && !isKilnCookie(p.split('=')[0] ?? ''));
  return kept.length ? kept.join('; ') : undefined;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * The headers an app receives: the client's, minus hop-by-hop headers (kept for an upgrade, which needs them),
 * kiln's cookies and `Coder-Session-Token`; with the app's own Host and the usual X-Forwarded-* set.
 */
export function requestHeadersForApp(raw: string[], o: { upgrade: boolean; host: string; forwardedHost: string; proto: string; remote?: string }): [string, string][] {
  const out: [string, string][] = [];
  let forwardedFor: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const n = name.toLowerCase();
    if (n === 'host' || n === SESSION_HEADER || n.startsWith('x-forwarded-')) {
      if (n === 'x-forwarded-for') forwardedFor = value;
      continue;
    }
    if (HOP_BY_HOP.has(n) && !(o.upgrade && (n === 'connection' || n === 'upgrade'))) continue;
    if (n === 'cookie') {
      const c = stripKilnCookies(value);
      if (c) out.push([name, c]);
      continue;
    }
    out.push([name, value]);
  }
  out.push(['Host', o.host], ['X-Forwarded-Host', o.forwardedHost], ['X-Forwarded-Proto', o.proto]);
  if (o.remote) out.push(['X-Forwarded-For', forwardedFor ? `${forwardedFor}, ${o.remote}` : o.remote]);
  return out;
}

/** The app's response headers for the client: hop-by-hop headers dropped, and no Set-Cookie of a kiln cookie. */
export function responseHeadersFromApp(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k)) continue;
    if (k === 'set-cookie') {
      const kept = (v as string[]).filter((c) => !isKilnCookie(c.split('=')[0] ?? ''));
      if (kept.length) out[k] = kept;
      continue;
    }
    out[k] = v;
  }
  return out;
}
