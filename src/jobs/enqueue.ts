import type { Queryable } from '../db/pool.js';
import { insertProvisionerJob, type InsertProvisionerJobParams, type ProvisionerJobRow } from '../db/queries/provisionerJobs.js';

import { JOB_POSTED_CHANNEL } from './channels.js';

/**
 * Adds a job to the queue and wakes idle daemons. Called inside the caller's transaction: PostgreSQL delivers the
 * NOTIFY only when that transaction commits, so no daemon wakes for a job it cannot yet see.
 */
export async function enqueueJob(tx: Queryable, p: InsertProvisionerJobParams): Promise<ProvisionerJobRow> {
  const job = await insertProvisionerJob(tx, p);
  await tx.query('SELECT pg_notify($1, $2)', [JOB_POSTED_CHANNEL, job.id]);
  return job;
}

/**
 * Coder's tag rules: a missing scope becomes `organization`; `user` scope is bound to the owner; organization scope
 * drops any owner; any other scope is coerced to organization.
 */
export function mutateTags(ownerId: string, tags: Record<string, string> | undefined): Record<string, string> {
  const t: Record<string, string> = { ...(tags ?? {}) };
  if (t.scope === 'user') {
    t.owner = ownerId;
  } else {
    t.scope = 'organization';
    delete t.owner;
  }
  return t;
}
