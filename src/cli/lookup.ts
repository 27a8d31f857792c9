import type { KilnClient } from '../sdk/client.js';
import { isSdkError } from '../sdk/errors.js';
import type { Organization } from '../sdk/types/users.js';
import type { Template } from '../sdk/types/templates.js';
import type { WorkspaceBuild } from '../sdk/types/workspaceBuilds.js';
import type { Workspace } from '../sdk/types/workspaces.js';

import { CliError } from './errors.js';
import { UsageError } from './flags.js';

/** `dev` is one of mine; `alice/dev` is alice's (as in `coder`). */
export function parseWorkspaceRef(ref: string): { owner: string; name: string } {
  const parts = ref.split('/');
  if (parts.length === 1 && parts[0]) return { owner: 'me', name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { owner: parts[0], name: parts[1] };
  throw new UsageError(`"${ref}" is not a workspace name (use <name> or <owner>/<name>)`);
}

export async function findWorkspace(client: KilnClient, ref: string): Promise<Workspace> {
  const { owner, name } = parseWorkspaceRef(ref);
  try {
    return await client.workspaceByOwnerAndName(owner, name);
  } catch (e) {
    if (isSdkError(e, 404)) {
      throw new CliError(`workspace "${ref}" not found.`, owner === 'me' ? 'Run "kiln list" to see your workspaces.' : `Run "kiln list --all" to see the workspaces you can reach.`);
    }
    throw e;
  }
}

/** kiln has one organization per user today; commands act in the first, as `coder` does without `--org`. */
export async function findOrganization(client: KilnClient): Promise<Organization> {
  const orgs = await client.userOrganizations('me');
  const org = orgs[0];
  if (!org) throw new CliError('you belong to no organization.', 'Ask an owner to add you to one.');
  return org;
}

export async function findTemplate(client: KilnClient, orgId: string, name: string): Promise<Template> {
  try {
    return await client.templateByName(orgId, name);
  } catch (e) {
    if (isSdkError(e, 404)) throw new CliError(`template "${name}" not found.`, 'Run "kiln templates list" to see the templates.');
    throw e;
  }
}

/** The workspace's latest build, or build number `n` (`--build`). */
export async function findBuild(client: KilnClient, ws: Workspace, n: number | undefined): Promise<WorkspaceBuild> {
  if (n === undefined) return ws.latest_build;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--build must be a build number (1 or more), got ${n}`);
  try {
    return await client.workspaceBuildByNumber(ws.owner_name, ws.name, n);
  } catch (e) {
    if (isSdkError(e, 404)) throw new CliError(`workspace "${ws.name}" has no build #${n} (the latest is #${ws.latest_build.build_number}).`);
    throw e;
  }
}
