import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';

import { isUniqueViolation } from '../../db/pool.js';
import { updateWorkspaceAutostart, updateWorkspaceName, type WorkspaceRow } from '../../db/queries/workspaces.js';
import { workspaceChannel } from '../../jobs/channels.js';
import { UpdateWorkspaceAutostartRequest, UpdateWorkspaceRequest } from '../../sdk/types/workspaces.js';
import { authz } from '../authz.js';
import { readableWorkspace } from '../builds/access.js';
import type { ServerContext } from '../context.js';
import { errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { errorResponses, uuidParams } from '../schemas/common.js';

import { watchWorkspaceWs } from './workspaceWatch.js';

const tags = ['Workspaces'];
const NAME_RE = /^[a-zA-Z0-9](-?[a-zA-Z0-9])*$/;
const CRON_FIELD = /^[0-9*,/-]+$/;

/**
 * Coder's weekly schedule: five cron fields, optionally after `CRON_TZ=<IANA zone>`; day-of-month and month must be
 * `*` (a schedule is a time of day on some weekdays). Returns the problem, or undefined when the schedule is valid.
 */
export function scheduleProblem(raw: string): string | undefined {
  let rest = raw.trim();
  const tz = /^CRON_TZ=(\S+)\s+/.exec(rest);
  if (tz) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz[1] });
    } catch {
      return `parse schedule: provided bad location ${tz[1]}: unknown time zone ${tz[1]}`;
    }
    rest = rest.slice(tz[0].length);
  }
  const fields = rest.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `parse schedule: expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  if (!fields.every((f) => CRON_FIELD.test(f))) return `parse schedule: failed to parse cron fields: ${rest}`;
  if (fields[2] !== '*' || fields[3] !== '*') return 'validate weekly schedule: expected day-of-month and month values to be *';
  return undefined;
}

/** Workspace routes of later Coder: rename, autostart, and the WebSocket variant of `watch`. */
export async function workspaceUpdateRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);
  const publish = (id: string) => ctx.pubsub.publish(workspaceChannel(id)).catch(() => {});

  app.patch<{ Params: { workspace: string }; Body: UpdateWorkspaceRequest }>(
    '/api/v2/workspaces/:workspace',
    { onRequest: auth, schema: { tags, params: uuidParams('workspace'), body: UpdateWorkspaceRequest, response: { ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const w = await readableWorkspace(ctx, s, req.params.workspace);
      if (!authz.canUpdateWorkspace(s, w)) throw errors.resourceNotFound();
      const name = req.body.name;
      if (name && name !== w.name) {
        if (!NAME_RE.test(name) || name.length > 32) {
          throw errors.validation([{ field: 'name', detail: `Validation failed for tag "workspace_name" with value: "${name}"` }]);
        }
        try {
          await updateWorkspaceName(ctx.pool, w.id, name, ctx.clock.now());
        } catch (e) {
          if (isUniqueViolation(e)) {
            throw errors.conflict(`Workspace "${name}" already exists.`, undefined, [{ field: 'name', detail: 'This value is already in use and should be unique.' }]);
          }
          throw e;
        }
        void publish(w.id);
      }
      return reply.code(204).send();
    },
  );

  app.put<{ Params: { workspace: string }; Body: UpdateWorkspaceAutostartRequest }>(
    '/api/v2/workspaces/:workspace/autostart',
    { onRequest: auth, schema: { tags, params: uuidParams('workspace'), body: UpdateWorkspaceAutostartRequest, response: { ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const w = await readableWorkspace(ctx, s, req.params.workspace);
      if (!authz.canUpdateWorkspace(s, w)) throw errors.resourceNotFound();
      const schedule = req.body.schedule?.trim() || null;
      const problem = schedule ? scheduleProblem(schedule) : undefined;
      if (problem) throw errors.badRequest('Invalid autostart schedule.', undefined, [{ field: 'schedule', detail: problem }]);
      await updateWorkspaceAutostart(ctx.pool, w.id, schedule, ctx.clock.now());
      void publish(w.id);
      return reply.code(204).send();
    },
  );

  app.route<{ Params: { workspace: string } }>({
    method: 'GET',
    url: '/api/v2/workspaces/:workspace/watch-ws',
    onRequest: auth,
    schema: { tags, params: uuidParams('workspace'), response: { ...errorResponses } },
    preHandler: async (req) => {
      req.watchedWorkspace = await readableWorkspace(ctx, subjectOf(req), req.params.workspace);
    },
    handler: async () => {
      throw errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade.');
    },
    wsHandler: (socket: WebSocket, req) => {
      const w = req.watchedWorkspace;
      if (!w) return socket.close(1011);
      void watchWorkspaceWs(ctx, req, socket, w);
    },
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    watchedWorkspace?: WorkspaceRow;
  }
}
