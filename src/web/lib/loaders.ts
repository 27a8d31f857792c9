import { isSdkError, type Workspace, type WorkspaceBuild } from '../sdk.js';

import { client } from './client.js';

/** A workspace by owner and name; a deleted one too, so its page and history stay readable after a delete. */
export async function loadWorkspace(owner: string, name: string): Promise<Workspace> {
  try {
    return await client.workspaceByOwnerAndName(owner, name);
  } catch (e) {
    if (!isSdkError(e, 404) && !isSdkError(e, 410)) throw e;
    try {
      return await client.workspaceByOwnerAndName(owner, name, { deleted: true });
    } catch {
      throw e;
    }
  }
}

/** A build by its workspace's owner, name and number; falls back to the deleted workspace's history. */
export async function loadBuild(owner: string, name: string, number: string): Promise<WorkspaceBuild> {
  try {
    return await client.workspaceBuildByNumber(owner, name, number);
  } catch (e) {
    if (!isSdkError(e, 404)) throw e;
    const w = await client.workspaceByOwnerAndName(owner, name, { deleted: true }).catch(() => null);
    if (!w?.deleted) throw e;
    const found = (await client.workspaceBuilds(w.id)).find((b) => String(b.build_number) === number);
    if (!found) throw e;
    return found;
  }
}
