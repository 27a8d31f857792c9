import type { FastifyRequest } from 'fastify';

import { getAgentByAuthToken, type AgentWithBuild } from '../../db/queries/workspaceAgents.js';
import { getLatestWorkspaceBuild } from '../../db/queries/workspaceBuilds.js';
import type { ServerContext } from '../context.js';
import { ApiError, errors } from '../http/errors.js';

import { parseCookies, SESSION_COOKIE, SESSION_HEADER } from './apiKey.js';
import { isUuid } from '../../sdk/uuid.js';

declare module 'fastify' {
  interface FastifyRequest {
    agent?: AgentWithBuild;
  }
}


/** Agent tokens travel like session tokens (reference §9.1): cookie, query parameter or header, first one wins. */
function agentToken(req: FastifyRequest): string | undefined {
  const cookie = parseCookies(req.headers.cookie)[SESSION_COOKIE];
  if (cookie) return cookie;
  const q = (req.query as Record<string, unknown> | undefined)?.[SESSION_COOKIE];
  if (typeof q === 'string' && q) return q;
  const h = req.headers[SESSION_HEADER];
  if (typeof h === 'string' && h) return h;
  return undefined;
}

/**
 * Resolves `/workspaceagents/me/*` callers from their agent token. With `latestOnly`, an agent of an older build is
 * refused: it must not open a session or fetch scripts once a newer build replaced it. Reports about its own row
 * (lifecycle, logs, health, version) are accepted from any build, so an agent being stopped can still say `off`.
 */
export function requireAgent(ctx: ServerContext, opts: { latestOnly: boolean }) {
  return async (req: FastifyRequest): Promise<void> => {
    const token = agentToken(req);
    if (!token) throw errors.unauthorized(`Cookie "${SESSION_COOKIE}" must be provided.`);
    if (!isUuid(token)) throw errors.unauthorized('Agent token is invalid.');
    const agent = await getAgentByAuthToken(ctx.pool, token.toLowerCase());
    if (!agent) throw errors.unauthorized('Agent token is invalid.');
    if (opts.latestOnly) {
      const latest = await getLatestWorkspaceBuild(ctx.pool, agent.workspace_id);
      if (!latest || latest.id !== agent.build_id) throw new ApiError(403, 'Agent trying to connect from non-latest build.');
    }
    req.agent = agent;
  };
}

export function agentOf(req: FastifyRequest): AgentWithBuild {
  if (!req.agent) throw errors.unauthorized('Agent token is invalid.');
  return req.agent;
}
