import type { FastifyInstance } from 'fastify';

import { APP_TOKEN_QUERY, parseAppHost, type AppHostResponse } from '../../sdk/apps.js';
import { mintAppToken, resolveApp } from '../apps/access.js';
import type { ServerContext } from '../context.js';
import { ApiError } from '../http/errors.js';
import { authenticate, requireAuth, subjectOf } from '../middleware/apiKey.js';
import { errorResponses } from '../schemas/common.js';

const tags = ['Applications'];

export async function applicationRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);

  app.get(
    '/api/v2/applications/host',
    {
      onRequest: auth,
      schema: { tags, response: { 200: { type: 'object', properties: { host: { type: 'string' } }, required: ['host'] }, ...errorResponses } },
    },
    async (): Promise<AppHostResponse> => ({ host: ctx.options.wildcardAccessUrl }),
  );

  /**
   * Coder's app login: the dashboard origin, which holds the session, mints a token for the one app `redirect_uri`
   * points at and sends the browser back there with it in the query. The app origin never sees the session itself.
   */
  app.get<{ Querystring: { redirect_uri?: string } }>(
    '/api/v2/applications/auth-redirect',
    {
      // As Coder: a browser without a session signs in first, then comes back here (the dashboard follows `redirect`).
      onRequest: async (req, reply) => {
        try {
          await authenticate(ctx, req);
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 401) throw e;
          return reply.code(307).header('Cache-Control', 'no-store').header('Location', `/login?redirect=${encodeURIComponent(req.url)}`).send();
        }
      },
      schema: { tags, querystring: { type: 'object', properties: { redirect_uri: { type: 'string' } } }, response: { ...errorResponses } },
    },
    async (req, reply) => {
      const raw = req.query.redirect_uri ?? '';
      let target: URL | undefined;
      try {
        target = new URL(raw);
      } catch {
        target = undefined;
      }
      const addr = target && (target.protocol === 'http:' || target.protocol === 'https:') ? parseAppHost(target.host, ctx.options.wildcardAccessUrl) : undefined;
      if (!target || !addr) {
        throw new ApiError(400, 'Invalid redirect_uri.', `It must be the URL of a workspace app under ${ctx.options.wildcardAccessUrl || 'the wildcard access URL'}.`, [
          { field: 'redirect_uri', detail: 'Not an application URL' },
        ]);
      }
      const subject = subjectOf(req);
      const found = await resolveApp(ctx, subject, addr);
      const { token } = await mintAppToken(ctx, subject, found);
      target.searchParams.set(APP_TOKEN_QUERY, token);
      return reply.code(307).header('Cache-Control', 'no-store').header('Location', target.href).send();
    },
  );
}
