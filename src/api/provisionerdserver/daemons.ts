import { randomUUID } from 'node:crypto';

import { deleteProvisionerDaemons, insertProvisionerDaemon, updateProvisionerDaemonsLastSeen } from '../../db/queries/provisionerDaemons.js';
import type { ServerContext } from '../context.js';

import type { DaemonIdentity } from './client.js';

/**
 * Records a daemon in provisioner_daemons (what `GET …/provisionerdaemons` lists). A daemon without a scope tag serves
 * organization-scoped jobs; a job is only handed to a daemon that has every tag the job has.
 */
export async function registerDaemon(
  ctx: ServerContext,
  p: { name: string; provisioners: string[]; tags?: Record<string, string>; organizationId?: string | null },
): Promise<DaemonIdentity> {
  const row = await insertProvisionerDaemon(ctx.pool, {
    id: randomUUID(),
    name: p.name,
    provisioners: p.provisioners,
    tags: { scope: 'organization', ...p.tags },
    organizationId: p.organizationId ?? null,
    version: ctx.options.version,
    now: ctx.clock.now(),
  });
  return { id: row.id, name: row.name, provisioners: row.provisioners, tags: row.tags };
}

export function touchDaemons(ctx: ServerContext, ids: string[]): Promise<void> {
  return updateProvisionerDaemonsLastSeen(ctx.pool, ids, ctx.clock.now());
}

export function unregisterDaemons(ctx: ServerContext, ids: string[]): Promise<void> {
  return deleteProvisionerDaemons(ctx.pool, ids);
}
