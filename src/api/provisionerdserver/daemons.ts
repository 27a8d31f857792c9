import { randomUUID } from 'node:crypto';

import {
  deleteProvisionerDaemons,
  deleteProvisionerDaemonsOfServer,
  getRunningJobsOfServerDaemons,
  insertProvisionerDaemon,
  updateProvisionerDaemonsLastSeen,
} from '../../db/queries/provisionerDaemons.js';
import { failOrphanedJob } from '../../jobs/reaper.js';
import type { ServerContext } from '../context.js';

import type { DaemonIdentity } from './client.js';

/**
 * Records a daemon in provisioner_daemons (what `GET …/provisionerdaemons` lists). A daemon without a scope tag serves
 * organization-scoped jobs; a job is only handed to a daemon that has every tag the job has.
 */
export async function registerDaemon(
  ctx: ServerContext,
  p: { name: string; provisioners: string[]; tags?: Record<string, string>; organizationId?: string | null; serverId?: string },
): Promise<DaemonIdentity> {
  const row = await insertProvisionerDaemon(ctx.pool, {
    id: randomUUID(),
    name: p.name,
    provisioners: p.provisioners,
    tags: { scope: 'organization', ...p.tags },
    organizationId: p.organizationId ?? null,
    version: ctx.options.version,
    now: ctx.clock.now(),
    serverId: p.serverId,
  });
  return { id: row.id, name: row.name, provisioners: row.provisioners, tags: row.tags };
}

export function touchDaemons(ctx: ServerContext, ids: string[]): Promise<void> {
  return updateProvisionerDaemonsLastSeen(ctx.pool, ids, ctx.clock.now());
}

export function unregisterDaemons(ctx: ServerContext, ids: string[]): Promise<void> {
  return deleteProvisionerDaemons(ctx.pool, ids);
}

/**
 * Start-up of a server whose previous process died (SIGKILL, power loss): jobs its built-in daemons were running cannot
 * be running any more, since those daemons lived in the dead process. They are failed now, each with a log line saying
 * why, instead of after the hang timeout; then the dead daemons' rows are removed. Only daemons registered with this
 * server's id are considered: another replica's jobs are never touched.
 */
export async function recoverServerDaemons(ctx: ServerContext, serverId: string): Promise<string[]> {
  const failed: string[] = [];
  for (const j of await getRunningJobsOfServerDaemons(ctx.pool, serverId)) {
    if (await failOrphanedJob(ctx, j.job_id, j.daemon_name)) failed.push(j.job_id);
  }
  await deleteProvisionerDaemonsOfServer(ctx.pool, serverId);
  return failed;
}
