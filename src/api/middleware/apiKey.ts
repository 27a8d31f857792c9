import type { FastifyReply, FastifyRequest } from 'fastify';

import { getApiKeyWithUserByID, updateApiKeyLastUsed } from '../../db/queries/apiKeys.js';
import { updateUserLastSeen } from '../../db/queries/users.js';
import { parseToken, secretMatches } from '../auth/apiKeys.js';
import { siteRoles, type Subject } from '../authz.js';
import type { ServerContext } from '../context.js';
import { rfc3339 } from '../convert/time.js';
import { errors } from '../http/errors.js';

import { ApiKeyCache } from './apiKeyCache.js';

declare module 'fastify' {
  interface FastifyRequest {
    subject?: Subject;
    apiKeyId?: string;
  }
}

export const SESSION_COOKIE = 'coder_session_token';
export const SESSION_HEADER = 'coder-session-token';

/** Writes to `last_used` happen at most this often per key: reads stay reads. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k && !(k in out)) {
      try {
        out[k] = decodeURIComponent(v);
      } catch {
        out[k] = v;
      }
    }
  }
  return out;
}

/** The token, from the first place that has one: cookie, query, header, then `Authorization: Bearer`. */
export function tokenFromRequest(req: FastifyRequest): string | undefined {
  const cookie = parseCookies(req.headers.cookie)[SESSION_COOKIE];
  if (cookie) return cookie;
  const q = (req.query as Record<string, unknown> | undefined)?.[SESSION_COOKIE];
  if (typeof q === 'string' && q) return q;
  const h = req.headers[SESSION_HEADER];
  if (typeof h === 'string' && h) return h;
  const auth = req.headers.authorization;
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim() || undefined;
  return undefined;
}

const caches = new WeakMap<ServerContext, ApiKeyCache>();

/** Starts this server's API-key cache (see apiKeyCache.ts); without one, every request reads its key. */
export async function startApiKeyCache(ctx: ServerContext, maxEntries?: number): Promise<ApiKeyCache> {
  const cache = new ApiKeyCache(maxEntries);
  await cache.start(ctx.pubsub, ctx.logger);
  caches.set(ctx, cache);
  return cache;
}

export function apiKeyCacheOf(ctx: ServerContext): ApiKeyCache | undefined {
  return caches.get(ctx);
}

/** Resolves the caller of a request from its API key; throws the 401 the reference prescribes otherwise. */
export async function authenticate(ctx: ServerContext, req: FastifyRequest): Promise<Subject> {
  const { subject, keyId } = await subjectFromToken(ctx, tokenFromRequest(req));
  req.apiKeyId = keyId;
  req.subject = subject;
  return subject;
}

/** The caller an API key token stands for (also used by the app proxy, which sees raw requests). */
export async function subjectFromToken(ctx: ServerContext, token: string | undefined): Promise<{ subject: Subject; keyId: string }> {
  if (!token) throw errors.unauthorized(`Cookie "${SESSION_COOKIE}" or query parameter must be provided.`);
  const parsed = parseToken(token);
  if (!parsed.ok) throw errors.unauthorized(parsed.detail);
  const cache = caches.get(ctx);
  const load = () => getApiKeyWithUserByID(ctx.pool, parsed.id);
  const key = cache ? await cache.get(parsed.id, load) : await load();
  if (!key) throw errors.unauthorized('API key is invalid.');
  if (!secretMatches(parsed.secret, key.hashed_secret)) throw errors.unauthorized('API key secret is invalid.');
  const now = ctx.clock.now();
  if (key.expires_at.getTime() <= now.getTime()) throw errors.unauthorized(`API key expired at ${rfc3339(key.expires_at)}.`);
  if (key.user_username === null || key.user_deleted) throw errors.unauthorized('API key is invalid.');
  if (key.user_status !== 'active') {
    throw errors.unauthorized(`User is not active (status = "${key.user_status}"). Contact an admin to reactivate your account.`);
  }
  if (now.getTime() - key.last_used.getTime() > LAST_USED_WRITE_INTERVAL_MS) {
    // Marked first: concurrent requests of this key do not all write (the cached row is this replica's copy).
    key.last_used = now;
    await updateApiKeyLastUsed(ctx.pool, key.id, now);
    await updateUserLastSeen(ctx.pool, key.user_id, now);
  }
  const subject: Subject = { userId: key.user_id, username: key.user_username, roles: siteRoles(key.user_rbac_roles ?? []) };
  return { subject, keyId: key.id };
}

/** A preHandler that rejects requests without a valid session. */
export function requireAuth(ctx: ServerContext) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    await authenticate(ctx, req);
  };
}

/** The caller of an authenticated route. */
export function subjectOf(req: FastifyRequest): Subject {
  if (!req.subject) throw errors.unauthorized(`Cookie "${SESSION_COOKIE}" or query parameter must be provided.`);
  return req.subject;
}
