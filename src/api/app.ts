import http from 'node:http';

import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';

import { withStatementCounter } from '../db/statementCount.js';

import { createAppProxy } from './apps/proxy.js';
import type { ServerContext } from './context.js';
import { fastifyErrorOptions, installErrorHandling } from './http/errorHandler.js';
import { errors } from './http/errors.js';
import { findUnstorableString, jsonDepthExceeds, MAX_JSON_DEPTH, unstorableStringError } from './http/inputChecks.js';
import { installMetrics } from './http/metrics.js';
import { BuildViewCache } from './builds/buildViewCache.js';
import { startApiKeyCache } from './middleware/apiKey.js';
import { installResponseCheck } from './http/responseCheck.js';
import { csrfGuard } from './middleware/csrf.js';
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
  const apps = createAppProxy(ctx);
  const app = Fastify({
    // Apps are served on their own hosts by the same listener: their requests and upgrades never reach the API's
    // routes, hooks or WebSocket handling, so nothing of the dashboard's (cookies, CSP) applies to them.
    serverFactory: (handler) => {
      // Each request runs in its own statement counter (src/db/statementCount.ts), read by the metrics hook.
      const server = http.createServer((req, res) => withStatementCounter({ statements: 0 }, () => apps.request(req, res) || handler(req, res)));
      // Node answers an HTTP/1.1 request without Host with an empty 400 of its own; kiln answers it, with the envelope.
      (server as { requireHostHeader?: boolean }).requireHostHeader = false;
      const emit = server.emit.bind(server) as (event: string, ...args: unknown[]) => boolean;
      server.emit = ((event: string, ...args: unknown[]) => {
        if (event === 'upgrade' && apps.upgrade(...(args as Parameters<typeof apps.upgrade>))) return true;
        return emit(event, ...args);
      }) as typeof server.emit;
      return server;
    },
    loggerInstance: ctx.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_BODY_LIMIT,
    return503OnClosing: true,
    // Node answers an HTTP/1.1 request without Host with an empty 400 of its own; kiln answers it (below), with the envelope.
    http: { requireHostHeader: false },
    forceCloseConnections: true,
    ...fastifyErrorOptions,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: true } },
  });

  installErrorHandling(app);

  // Like Coder, decode every body as JSON whatever its content type; only raw-body routes keep the bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    if (req.routeOptions.config?.rawBody) return done(null, body);
    if (body.length === 0) return done(null, undefined);
    const text = body.toString('utf8');
    if (jsonDepthExceeds(text)) return done(errors.invalidJson(`The body is nested deeper than ${MAX_JSON_DEPTH} levels.`), undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return done(errors.invalidJson((e as Error).message), undefined);
    }
    const bad = findUnstorableString(parsed);
    if (bad !== undefined) return done(unstorableStringError('body', bad), undefined);
    done(null, parsed);
  });
  app.addHook('onRequest', async (req) => {
    if (req.raw.httpVersion === '1.1' && !req.headers.host) throw errors.badRequest('Missing Host header.', 'HTTP/1.1 requests must carry a Host header.');
  });
  // Query strings and path parameters: the same rule as bodies, for every route, before validation and handlers.
  app.addHook('preValidation', async (req) => {
    const q = findUnstorableString(req.query);
    if (q !== undefined) throw unstorableStringError('query', q);
    const p = findUnstorableString(req.params);
    if (p !== undefined) throw unstorableStringError('path', p);
  });

  if (ctx.options.checkResponses) installResponseCheck(app);
  const metrics = installMetrics(app, ctx.pool);

  const apiKeys = await startApiKeyCache(ctx);
  app.addHook('onClose', async () => apiKeys.stop());
  const buildViews = new BuildViewCache(ctx.options.buildViewCacheEntries);
  await buildViews.start(ctx.pubsub, ctx.logger);
  app.addHook('onClose', async () => buildViews.stop());

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
  // 16 MiB: a provisioner daemon's final report carries the build's whole provisioner state in one frame.
  await app.register(websocket, { options: { maxPayload: 16 * 1024 * 1024 } });
  // Before any route's own authentication: a cookie-borne request from a foreign origin is refused outright. After the
  // WebSocket plugin's own hook, which marks upgrade requests so that a refused upgrade's socket is closed.
  app.addHook('onRequest', csrfGuard(ctx));

  await registerRoutes(app, ctx, { metrics, buildViews });
  return app;
}
