import { acquireProvisionerJob, type ProvisionerJobRow } from '../db/queries/provisionerJobs.js';

import { workspaceChannel } from './channels.js';
import type { JobsContext } from './context.js';

export interface AcquiringDaemon {
  id: string;
  provisioners: string[];
  tags: Record<string, string>;
}

/**
 * Takes the oldest job this daemon can run (ONE statement, see `acquireProvisionerJob`), or undefined when there is
 * none. A workspace build's watchers are told it started, by the same statement.
 */
export async function acquireJob(ctx: JobsContext, daemon: AcquiringDaemon): Promise<ProvisionerJobRow | undefined> {
  return acquireProvisionerJob(ctx.pool, {
    now: ctx.clock.now(),
    workerId: daemon.id,
    provisioners: daemon.provisioners,
    tags: daemon.tags,
    workspaceChannelPrefix: workspaceChannel(''),
  });
}
