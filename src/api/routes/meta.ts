import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

import type { ServerContext } from '../context.js';
import { BuildInfoResponse } from '../../sdk/types/users.js';
import { errorResponses } from '../schemas/common.js';

export async function metaRoutes(app: FastifyInstance, ctx: ServerContext, deps: { metrics: Registry }): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => reply.type('text/plain').send('OK'));

  app.get(
    '/api/v2/buildinfo',
    { schema: { tags: ['General'], security: [], response: { 200: BuildInfoResponse, ...errorResponses } } },
    async () => ({ version: ctx.options.version, external_url: ctx.options.accessUrl }),
  );

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));

  app.get('/api/v2/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
