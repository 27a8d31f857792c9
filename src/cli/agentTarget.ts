import type { KilnClient } from '../sdk/client.js';
import type { WorkspaceAgent } from '../sdk/types/workspaceBuilds.js';
import type { Workspace } from '../sdk/types/workspaces.js';

import { CliError } from './errors.js';
import { findWorkspace } from './lookup.js';

/**
 * The agent `ref` names: `<workspace>`, `<owner>/<workspace>`, either with `.<agent>` (needed when the workspace has
 * several agents, as in `coder ssh`). A workspace that is not running is refused here, with what to do.
 */
export async function findAgent(client: KilnClient, ref: string): Promise<{ workspace: Workspace; agent: WorkspaceAgent }> {
  const dot = ref.indexOf('.');
  const wsRef = dot >= 0 ? ref.slice(0, dot) : ref;
  const agentName = dot >= 0 ? ref.slice(dot + 1) : undefined;
  const workspace = await findWorkspace(client, wsRef);
  const b = workspace.latest_build;
  if (b.transition !== 'start' || b.job.status !== 'succeeded') {
    const state = b.job.status === 'succeeded' ? `${b.transition === 'stop' ? 'stopped' : b.transition + 'd'}` : `${b.transition} build ${b.job.status}`;
    throw new CliError(`workspace "${workspace.name}" is not running (${state}).`, `Run "kiln start ${workspace.name}" first.`);
  }
  const agents = b.resources.flatMap((r) => r.agents ?? []);
  if (agents.length === 0) throw new CliError(`workspace "${workspace.name}" has no agent to connect to.`);
  if (agentName === undefined) {
    if (agents.length > 1) throw new CliError(`workspace "${workspace.name}" has several agents.`, `Name one: ${agents.map((a) => `${workspace.name}.${a.name}`).join(', ')}.`);
    return { workspace, agent: agents[0] as WorkspaceAgent };
  }
  const agent = agents.find((a) => a.name === agentName);
  if (!agent) throw new CliError(`workspace "${workspace.name}" has no agent "${agentName}".`, `Its agents: ${agents.map((a) => a.name).join(', ')}.`);
  return { workspace, agent };
}
