import { getWorkspaceBuildByID, type WorkspaceBuildRow } from '../../db/queries/workspaceBuilds.js';
import { getWorkspaceByID, type WorkspaceRow } from '../../db/queries/workspaces.js';
import { authz, type Subject } from '../authz.js';
import type { ServerContext } from '../context.js';
import { errors } from '../http/errors.js';

/**
 * Loads a workspace the caller may read. Missing and unreadable look the same (404), so existence never leaks.
 * Deleted workspaces load too: their builds and logs stay readable.
 */
export async function readableWorkspace(ctx: ServerContext, s: Subject, id: string): Promise<WorkspaceRow> {
  const w = await getWorkspaceByID(ctx.pool, id);
  if (!w || !authz.canReadWorkspace(s, w)) throw errors.resourceNotFound();
  return w;
}

/** A build and its workspace, for the `/workspacebuilds/{id}` routes (reference §1.8). */
export async function readableBuild(ctx: ServerContext, s: Subject, id: string): Promise<{ build: WorkspaceBuildRow; workspace: WorkspaceRow }> {
  const build = await getWorkspaceBuildByID(ctx.pool, id);
  if (!build) throw errors.resourceNotFound();
  const workspace = await getWorkspaceByID(ctx.pool, build.workspace_id);
  if (!workspace) throw errors.internal('No workspace exists for this job.');
  if (!authz.canReadWorkspace(s, workspace)) throw errors.resourceNotFound();
  return { build, workspace };
}
