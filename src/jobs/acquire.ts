import { acquireProvisionerJob, type ProvisionerJobRow, type WorkspaceBuildJobInput } from '../db/queries/provisionerJobs.js';
import { getWorkspaceIDOfBuild } from '../db/queries/provisionerJobTargets.js';

import { workspaceChannel } from './channels.js';
import { publish, type JobsContext } from './context.js';

export interface AcquiringDaemon {
  id: string;
  provisioners: string[];
  tags: Record<string, string>;
}

/**
 * Takes the oldest job this daemon can run (one statement, see `acquireProvisionerJob`), or undefined when there is
 * none. A workspace build's watchers are told it started.
 */
export async function acquireJob(ctx: JobsContext, daemon: AcquiringDaemon): Promise<ProvisionerJobRow | undefined> {
  const job = await acquireProvisionerJob(ctx.pool, { now: ctx.clock.now(), workerId: daemon.id, provisioners: daemon.provisioners, tags: daemon.tags });
  if (job?.type === 'workspace_build') {
    const workspaceId = await getWorkspaceIDOfBuild(ctx.pool, (job.input as unknown as WorkspaceBuildJobInput).workspace_build_id);
    if (workspaceId) await publish(ctx, workspaceChannel(workspaceId));
  }
  return job;
}
