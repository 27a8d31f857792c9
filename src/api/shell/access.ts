import type { Duplex } from 'node:stream';

import { getAgentByID, type AgentWithBuild } from '../../db/queries/workspaceAgents.js';
import { getLatestWorkspaceBuild } from '../../db/queries/workspaceBuilds.js';
import { getWorkspaceByID, type WorkspaceRow } from '../../db/queries/workspaces.js';
import { coerceError } from '../../lib/errors.js';
import type { OpenSpec } from '../../sdk/tunnel/frames.js';
import { AgentUnreachableError } from '../agents/tunnels.js';
import { authz, type Subject } from '../authz.js';
import type { ServerContext } from '../context.js';
import { ApiError, errors } from '../http/errors.js';

export interface ShellTarget {
  agent: AgentWithBuild;
  workspace: WorkspaceRow;
}

/**
 * The agent a subject may open a shell, terminal or forwarded port on: the workspace owner's, or any for a site owner
 * (who gets an audit line in the server log). Missing and forbidden are the same 404, as for builds. A workspace
 * whose latest build is not a start (stopped, stopping, deleted), or an agent of an older build, is refused with 400
 * and a message that says so.
 */
export async function resolveShellTarget(ctx: ServerContext, subject: Subject, agentId: string, what: string): Promise<ShellTarget> {
  const agent = await getAgentByID(ctx.pool, agentId);
  if (!agent) throw errors.resourceNotFound();
  const workspace = await getWorkspaceByID(ctx.pool, agent.workspace_id);
  if (!workspace || workspace.deleted || !authz.canConnectToWorkspace(subject, workspace)) throw errors.resourceNotFound();
  if (subject.userId !== workspace.owner_id) {
    ctx.logger.info({ user: subject.username, workspaceId: workspace.id, agentId, what }, "a site owner opened a connection to another user's workspace");
  }
  const latest = await getLatestWorkspaceBuild(ctx.pool, workspace.id);
  if (!latest || latest.transition !== 'start') {
    throw errors.badRequest(`The workspace "${workspace.name}" is not running.`, `Its latest build is a ${latest?.transition ?? 'missing'} build; start the workspace to open a ${what}.`);
  }
  if (latest.id !== agent.build_id) {
    throw errors.badRequest('This agent belongs to an older build of the workspace.', "Use the agent of the workspace's latest build.");
  }
  return { agent, workspace };
}

/** A stream to the agent, with the reason in an envelope when it cannot be had. */
export async function openAgentStream(ctx: ServerContext, agentId: string, spec: OpenSpec): Promise<Duplex> {
  try {
    return await ctx.tunnels.openStream(agentId, spec);
  } catch (e) {
    if (e instanceof AgentUnreachableError) {
      throw new ApiError(400, 'The workspace agent is not connected.', 'Wait for the workspace to finish starting and its agent to connect, then try again.');
    }
    throw new ApiError(502, 'The workspace agent refused the connection.', coerceError(e).message);
  }
}
