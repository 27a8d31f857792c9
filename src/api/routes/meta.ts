import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

import { coerceError } from '../../lib/errors.js';
import type { ServerContext } from '../context.js';
import { BuildInfoResponse } from '../../sdk/types/users.js';
import { ApiError } from '../http/errors.js';
import { errorResponses } from '../schemas/common.js';

export async function metaRoutes(app: FastifyInstance, ctx: ServerContext, deps: { metrics: Registry }): Promise<void> {
  // Readiness: 200 only when the database answers within HEALTH_DB_TIMEOUT_MS; a load balancer stops sending traffic
  // to a replica whose every route would fail. Liveness (`/livez`) only says the process serves HTTP.
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const db = await databaseAnswers(ctx);
    if (!db.ok) throw new ApiError(503, 'The database is unavailable.', db.error);
    return reply.type('text/plain').send('OK');
  });
  app.get('/livez', { schema: { hide: true } }, async (_req, reply) => reply.type('text/plain').send('OK'));

  app.get(
    '/api/v2/buildinfo',
    { schema: { tags: ['General'], security: [], response: { 200: BuildInfoResponse, ...errorResponses } } },
    async () => ({ version: ctx.options.version, external_url: ctx.options.accessUrl }),
  );

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));

  app.get('/api/v2/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** How long /healthz waits for the database before answering 503. */
export const HEALTH_DB_TIMEOUT_MS = 2_000;

async function databaseAnswers(ctx: ServerContext): Promise<{ ok: true } | { ok: false; error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_DB_TIMEOUT_MS} ms`)), HEALTH_DB_TIMEOUT_MS);
  });
  try {
    await Promise.race([ctx.pool.query('SELECT 1'), timeout]);
    return { ok: true };
  } catch (e) {
    return { ok: false, error: coerceError(e).message };
  } finally {
    clearTimeout(timer);
  }
}
