import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

import { getStartupLogs } from '../../db/queries/workspaceAgentStartupLogs.js';
import { getAgentByID, getAppsByAgentID, updateAgentLifecycle, updateAgentVersion } from '../../db/queries/workspaceAgents.js';
import { getUserByID } from '../../db/queries/users.js';
import { getWorkspaceByID } from '../../db/queries/workspaces.js';
import { agentStartupLogsChannel } from '../../jobs/channels.js';
import {
  LIFECYCLE_STATES,
  PatchStartupLogsRequest,
  PostAppHealthsRequest,
  PostLifecycleRequest,
  PostVersionRequest,
  WorkspaceAgentMetadata,
  WorkspaceAgentStartupLog,
} from '../../sdk/types/workspaceAgents.js';
import type { WorkspaceAgentLifecycle } from '../../sdk/types/workspaceBuilds.js';
import { postAppHealth } from '../agents/appHealth.js';
import { coordinate, publishWorkspace } from '../agents/coordinate.js';
import { appendStartupLogs, convertStartupLog } from '../agents/startupLogs.js';
import { followStartupLogs } from '../agents/startupLogsFollower.js';
import { authz } from '../authz.js';
import { agentInactiveMs } from '../builds/render.js';
import { holdFollowSlot } from '../http/streamCaps.js';
import type { ServerContext } from '../context.js';
import { convertAgent, convertApp, nameAgentApps } from '../convert/workspaceResources.js';
import { ApiError, errors } from '../http/errors.js';
import { agentOf, requireAgent } from '../middleware/agentAuth.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { arr, errorResponses, uuidParams } from '../schemas/common.js';
import { workspaceAgentSchema } from '../schemas/workspaceBuilds.js';

const tags = ['Agents'];
const NS_PER_S = 1_000_000_000;
/** Coder's default; kiln templates have no shutdown timeout of their own yet. */
const SHUTDOWN_SCRIPT_TIMEOUT_S = 300;
/** Coder checks `semver.IsValid`, which wants a leading v; kiln's own versions have none, so both are accepted. */
const SEMVER = /^v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** An agent a user may read: through its workspace, 404 for missing and unreadable alike. */
async function readableAgent(ctx: ServerContext, req: FastifyRequest<{ Params: { workspaceagent: string } }>) {
  const agent = await getAgentByID(ctx.pool, req.params.workspaceagent);
  if (!agent) throw errors.resourceNotFound();
  const workspace = await getWorkspaceByID(ctx.pool, agent.workspace_id);
  if (!workspace || !authz.canReadWorkspace(subjectOf(req), workspace)) throw errors.resourceNotFound();
  return Object.assign(agent, { workspaceName: workspace.name, ownerId: workspace.owner_id });
}

function intQuery(q: Record<string, unknown>, name: string): number | undefined {
  const raw = q[name];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) throw new ApiError(400, `Query param "${name}" must be an integer.`, undefined, [{ field: name, detail: 'Must be an integer' }]);
  return Number(raw);
}

export async function workspaceAgentRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);
  const agentAny = requireAgent(ctx, { latestOnly: false });
  const agentLatest = requireAgent(ctx, { latestOnly: true });

  // --- for users

  app.get<{ Params: { workspaceagent: string } }>(
    '/api/v2/workspaceagents/:workspaceagent',
    { onRequest: auth, schema: { tags, params: uuidParams('workspaceagent'), response: { 200: workspaceAgentSchema, ...errorResponses } } },
    async (req) => {
      const agent = await readableAgent(ctx, req);
      const owner = await getUserByID(ctx.pool, agent.ownerId);
      const wire = convertAgent(agent, await getAppsByAgentID(ctx.pool, agent.id), ctx.clock.now(), agentInactiveMs(ctx));
      return owner ? nameAgentApps(wire, agent.workspaceName, owner.username) : wire;
    },
  );

  app.route<{ Params: { workspaceagent: string }; Querystring: Record<string, string> }>({
    method: 'GET',
    url: '/api/v2/workspaceagents/:workspaceagent/startup-logs',
    onRequest: auth,
    schema: { tags, params: uuidParams('workspaceagent'), response: { 200: arr(WorkspaceAgentStartupLog), ...errorResponses } },
    preHandler: async (req) => {
      const q = (req.query ?? {}) as Record<string, unknown>;
      const after = intQuery(q, 'after');
      const before = intQuery(q, 'before');
      const follow = 'follow' in q && (q.follow === '' || q.follow === 'true' || q.follow === '1');
      if (follow && before !== undefined) throw errors.badRequest('Query param "before" cannot be used with "follow".');
      const agent = await readableAgent(ctx, req);
      req.startupLogsRequest = { agentId: agent.id, after, before, follow };
    },
    handler: async (req, reply: FastifyReply) => {
      const r = req.startupLogsRequest;
      if (!r) throw errors.internal('Internal error reading startup logs.');
      if (r.follow) throw errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade; follow needs one.');
      const rows = await getStartupLogs(ctx.pool, r.agentId, { after: r.after, before: r.before });
      return reply.send(rows.map(convertStartupLog));
    },
    wsHandler: (socket: WebSocket, req) => {
      const r = req.startupLogsRequest;
      if (!r) return socket.close(1011);
      if (!holdFollowSlot(ctx, req.subject?.userId, socket)) return;
      void followStartupLogs(ctx, socket, r.agentId, r.after);
    },
  });

  // --- for agents (agent token)

  app.route({
    method: 'GET',
    url: '/api/v2/workspaceagents/me/coordinate',
    onRequest: agentLatest,
    schema: { tags },
    handler: async () => {
      throw errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade.');
    },
    wsHandler: (socket: WebSocket, req) => coordinate(ctx, socket, agentOf(req)),
  });

  app.get('/api/v2/workspaceagents/me/metadata', { onRequest: agentLatest, schema: { tags, response: { 200: WorkspaceAgentMetadata, ...errorResponses } } }, async (req): Promise<WorkspaceAgentMetadata> => {
    const agent = agentOf(req);
    const apps = await getAppsByAgentID(ctx.pool, agent.id);
    return {
      agent_id: agent.id,
      agent_name: agent.name,
      workspace_id: agent.workspace_id,
      apps: apps.map(convertApp),
      environment_variables: agent.environment_variables ?? {},
      directory: agent.directory,
      startup_script: agent.startup_script ?? '',
      startup_script_timeout: agent.startup_script_timeout_seconds * NS_PER_S,
      startup_script_timeout_seconds: agent.startup_script_timeout_seconds,
      shutdown_script: agent.shutdown_script ?? '',
      shutdown_script_timeout: SHUTDOWN_SCRIPT_TIMEOUT_S * NS_PER_S,
      shutdown_script_timeout_seconds: SHUTDOWN_SCRIPT_TIMEOUT_S,
      motd_file: '',
    };
  });

  app.post<{ Body: { state?: unknown } }>('/api/v2/workspaceagents/me/report-lifecycle', { onRequest: agentAny, schema: { tags, body: PostLifecycleRequest } }, async (req, reply) => {
    const agent = agentOf(req);
    const state = req.body?.state;
    if (typeof state !== 'string' || !LIFECYCLE_STATES.includes(state as WorkspaceAgentLifecycle)) {
      const list = LIFECYCLE_STATES.map((s) => JSON.stringify(s)).join(' ');
      throw errors.badRequest('Invalid lifecycle state.', `Invalid lifecycle state ${JSON.stringify(String(state ?? ''))}, must be be one of [${list}].`);
    }
    await updateAgentLifecycle(ctx.pool, agent.id, state, ctx.clock.now());
    publishWorkspace(ctx, agent.workspace_id);
    // A startup-log follower ends once the agent left `starting`; tell it to look.
    await ctx.pubsub.publish(agentStartupLogsChannel(agent.id), JSON.stringify({ created_after: 0, end_of_logs: state !== 'starting' && state !== 'created' })).catch(() => {});
    return reply.code(204).send();
  });

  app.patch<{ Body: PatchStartupLogsRequest }>('/api/v2/workspaceagents/me/startup-logs', { onRequest: agentAny, schema: { tags, body: PatchStartupLogsRequest } }, async (req) => {
    await appendStartupLogs(ctx, agentOf(req).id, req.body);
    return null;
  });

  app.post<{ Body: PostAppHealthsRequest }>('/api/v2/workspaceagents/me/app-health', { onRequest: agentAny, schema: { tags, body: PostAppHealthsRequest } }, async (req) => {
    await postAppHealth(ctx, agentOf(req), req.body);
    return null;
  });

  app.post<{ Body: { version?: unknown } }>('/api/v2/workspaceagents/me/version', { onRequest: agentAny, schema: { tags, body: PostVersionRequest } }, async (req) => {
    const agent = agentOf(req);
    const v = req.body?.version;
    if (typeof v !== 'string' || !SEMVER.test(v)) {
      throw errors.badRequest('Invalid workspace agent version provided.', `invalid semver version: ${JSON.stringify(String(v ?? ''))}`);
    }
    await updateAgentVersion(ctx.pool, agent.id, v, ctx.clock.now());
    publishWorkspace(ctx, agent.workspace_id);
    return null;
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    startupLogsRequest?: { agentId: string; after?: number; before?: number; follow: boolean };
  }
}
