import type { Queryable } from '../pool.js';

import type { ProvisionerJobRow } from './provisionerJobs.js';

/** A job's status in SQL, the same rules as `jobStatus` in src/api/convert/provisionerJobs.ts. */
const STATUS_SQL = `CASE
  WHEN canceled_at IS NOT NULL AND completed_at IS NULL THEN 'canceling'
  WHEN canceled_at IS NOT NULL THEN CASE WHEN COALESCE(error, '') <> '' THEN 'failed' ELSE 'canceled' END
  WHEN completed_at IS NOT NULL THEN CASE WHEN COALESCE(error, '') <> '' THEN 'failed' ELSE 'succeeded' END
  WHEN started_at IS NULL THEN 'pending'
  ELSE 'running' END`;

export interface JobListParams {
  organizationId: string;
  /** Only these statuses (empty: all). */
  statuses: string[];
  /** Only jobs carrying all of these tags. */
  tags?: Record<string, string>;
  /** Only jobs this user started (a member sees their own jobs only). */
  initiatorId?: string;
  limit: number;
}

/** An organization's jobs, newest first (Coder's GET /organizations/{org}/provisionerjobs). */
export async function listOrganizationProvisionerJobs(db: Queryable, p: JobListParams): Promise<ProvisionerJobRow[]> {
  const { rows } = await db.query<ProvisionerJobRow>(
    `SELECT * FROM provisioner_jobs
     WHERE organization_id = $1
       AND (cardinality($2::text[]) = 0 OR (${STATUS_SQL}) = ANY($2::text[]))
       AND ($3::jsonb IS NULL OR tags @> $3::jsonb)
       AND ($4::uuid IS NULL OR initiator_id = $4)
     ORDER BY created_at DESC, id
     LIMIT $5`,
    [p.organizationId, p.statuses, p.tags ? JSON.stringify(p.tags) : null, p.initiatorId ?? null, p.limit],
  );
  return rows;
}
