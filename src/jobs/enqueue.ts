import type { Queryable } from '../db/pool.js';
import { insertProvisionerJob, type InsertProvisionerJobParams, type ProvisionerJobRow } from '../db/queries/provisionerJobs.js';

import { JOB_POSTED_CHANNEL } from './channels.js';

/**
 * Adds a job to the queue and wakes idle daemons. Called inside the caller's transaction: PostgreSQL delivers the
 * NOTIFY only when that transaction commits, so no daemon wakes for a job it cannot yet see.
 */
export async function enqueueJob(tx: Queryable, p: InsertProvisionerJobParams): Promise<ProvisionerJobRow> {
  // One statement: the row, and the notification idle daemons wait for (sent when the caller's transaction commits).
  return insertProvisionerJob(tx, p, JOB_POSTED_CHANNEL);
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
