import { getAppsByAgentID, updateAppHealths } from '../../db/queries/workspaceAgents.js';
import type { PostAppHealthsRequest } from '../../sdk/types/workspaceAgents.js';
import type { ServerContext } from '../context.js';
import { ApiError, errors } from '../http/errors.js';

import { publishWorkspace } from './coordinate.js';

const SETTABLE = new Set(['initializing', 'healthy', 'unhealthy']);
const FAILED = 'Error setting workspace app health';

/**
 * `POST /workspaceagents/me/app-health` with the checks and messages of reference §9.5, in Coder's order per entry:
 * unknown app (404), app without a healthcheck (404), value not settable (400). Nothing is written unless every entry
 * passes; only rows whose health changes are written, and then the workspace channel fires.
 */
export async function postAppHealth(ctx: ServerContext, agent: { id: string; workspace_id: string }, body: PostAppHealthsRequest | undefined): Promise<void> {
  const healths = body?.healths;
  if (!healths || typeof healths !== 'object' || Object.keys(healths).length === 0) throw errors.badRequest('Health field is empty');
  const apps = new Map((await getAppsByAgentID(ctx.pool, agent.id)).map((a) => [a.id, a]));
  const changes: { id: string; health: string }[] = [];
  for (const [id, health] of Object.entries(healths)) {
    const app = apps.get(id.toLowerCase());
    if (!app) throw new ApiError(404, FAILED, `workspace app name ${id} not found`);
    if (!app.healthcheck_url) throw new ApiError(404, FAILED, `health checking is disabled for workspace app ${id}`);
    if (!SETTABLE.has(health)) throw new ApiError(400, FAILED, `workspace app health ${String(health)} is not a valid value`);
    if (app.health !== health) changes.push({ id: app.id, health });
  }
  if ((await updateAppHealths(ctx.pool, changes)) > 0) publishWorkspace(ctx, agent.workspace_id);
}
