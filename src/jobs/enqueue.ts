import type { Queryable } from '../db/pool.js';
import { insertProvisionerJob, type InsertProvisionerJobParams, type ProvisionerJobRow } from '../db/queries/provisionerJobs.js';

import { JOB_POSTED_CHANNEL } from './channels.js';
import { publish, type JobsContext } from './context.js';

/**
 * Adds a job to the queue, inside the caller's transaction (with the rows the job points at). Once that has
 * committed, the caller wakes the daemons with `announceJob`: none wakes for a job it cannot yet see.
 */
export async function enqueueJob(tx: Queryable, p: InsertProvisionerJobParams): Promise<ProvisionerJobRow> {
  return insertProvisionerJob(tx, p);
}

/** Wakes idle daemons (on every replica) for a committed job. Never throws: daemons also poll. */
export function announceJob(ctx: JobsContext, jobId: string): Promise<void> {
  return publish(ctx, JOB_POSTED_CHANNEL, jobId);
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
