import http from 'node:http';

import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';

import { withStatementCounter } from '../db/statementCount.js';

import type { ServerContext } from './context.js';
import { fastifyErrorOptions, installErrorHandling } from './http/errorHandler.js';
import { errors } from './http/errors.js';
import { installMetrics } from './http/metrics.js';
import { startApiKeyCache } from './middleware/apiKey.js';
import { registerRoutes } from './routes/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes its body as raw bytes (file uploads) instead of JSON. */
    rawBody?: boolean;
  }
}

/** JSON request bodies are capped; file uploads set their own, larger, limit. */
const JSON_BODY_LIMIT = 2 * 1024 * 1024;

/**
 * Builds the HTTP application. Nothing listens here: the caller decides (the `server` command, or a test harness
 * listening on an ephemeral port).
 */
export async function buildApp(ctx: ServerContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_BODY_LIMIT,
    return503OnClosing: true,
    forceCloseConnections: true,
    ...fastifyErrorOptions,
    // Each request runs in its own statement counter (src/db/statementCount.ts), read by the metrics hook.
    serverFactory: (handler) => http.createServer((req, res) => withStatementCounter({ statements: 0 }, () => handler(req, res))),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: true } },
  });

  installErrorHandling(app);

  // Like Coder, decode every body as JSON whatever its content type; only raw-body routes keep the bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    if (req.routeOptions.config?.rawBody) return done(null, body);
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch (e) {
      done(errors.invalidJson((e as Error).message), undefined);
    }
  });

  const metrics = installMetrics(app, ctx.pool);

  const apiKeys = await startApiKeyCache(ctx);
  app.addHook('onClose', async () => apiKeys.stop());

  // Request logs without query strings: a token passed as `?coder_session_token=` must never reach a log line.
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'kiln API', description: "kiln speaks Coder's v2 REST API for workspace builds.", version: ctx.options.version },
      components: {
        securitySchemes: { CoderSessionToken: { type: 'apiKey', in: 'header', name: 'Coder-Session-Token' } },
      },
      security: [{ CoderSessionToken: [] }],
    },
  });
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });

  await registerRoutes(app, ctx, { metrics });
  return app;
}
