import type { Queryable } from '../pool.js';

export type ProvisionerJobType = 'template_version_import' | 'workspace_build' | 'template_version_dry_run';

export interface ProvisionerJobRow {
  id: string;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  canceled_at: Date | null;
  completed_at: Date | null;
  error: string | null;
  organization_id: string;
  initiator_id: string;
  provisioner: string;
  storage_method: string;
  type: ProvisionerJobType;
  input: Record<string, unknown>;
  worker_id: string | null;
  file_id: string;
  tags: Record<string, string>;
  logs_length: number;
  logs_overflowed: boolean;
}

/**
 * Job inputs, by type. `workspace_build` jobs point at their build; imports at their template version.
 * `orphan` makes a delete build skip the provisioner entirely (see docs/compatibility.md).
 */
export interface WorkspaceBuildJobInput {
  workspace_build_id: string;
  dry_run: false;
  orphan?: boolean;
}
export interface TemplateVersionImportJobInput {
  template_version_id: string;
}

export interface InsertProvisionerJobParams {
  id: string;
  now: Date;
  organizationId: string;
  initiatorId: string;
  provisioner: string;
  type: ProvisionerJobType;
  input: WorkspaceBuildJobInput | TemplateVersionImportJobInput | Record<string, unknown>;
  fileId: string;
  tags: Record<string, string>;
}

export async function insertProvisionerJob(db: Queryable, p: InsertProvisionerJobParams): Promise<ProvisionerJobRow> {
  const { rows } = await db.query<ProvisionerJobRow>(
    `INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, type, input, file_id, tags)
     VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [p.id, p.now, p.organizationId, p.initiatorId, p.provisioner, p.type, JSON.stringify(p.input), p.fileId, JSON.stringify(p.tags)],
  );
  return rows[0] as ProvisionerJobRow;
}

export async function getProvisionerJobByID(db: Queryable, id: string): Promise<ProvisionerJobRow | undefined> {
  const { rows } = await db.query<ProvisionerJobRow>('SELECT * FROM provisioner_jobs WHERE id = $1', [id]);
  return rows[0];
}

export async function getProvisionerJobsByIDs(db: Queryable, ids: string[]): Promise<ProvisionerJobRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<ProvisionerJobRow>('SELECT * FROM provisioner_jobs WHERE id = ANY($1::uuid[])', [ids]);
  return rows;
}

/** Locks the job row for the rest of the transaction (cancel and complete race on it). */
export async function getProvisionerJobForUpdate(db: Queryable, id: string): Promise<ProvisionerJobRow | undefined> {
  const { rows } = await db.query<ProvisionerJobRow>('SELECT * FROM provisioner_jobs WHERE id = $1 FOR UPDATE', [id]);
  return rows[0];
}

/**
 * Queue position of pending jobs (1 = next), counted among pending jobs of the same provisioner created earlier,
 * plus the queue size. Approximate across tag sets, exact for one tag set.
 */
export async function getQueuePositions(db: Queryable, ids: string[]): Promise<Map<string, { position: number; size: number }>> {
  const out = new Map<string, { position: number; size: number }>();
  if (ids.length === 0) return out;
  const { rows } = await db.query<{ id: string; position: number; size: number }>(
    `WITH pending AS (
       SELECT id, provisioner, tags,
              row_number() OVER (PARTITION BY provisioner, tags ORDER BY created_at, id)::int AS position,
              count(*) OVER (PARTITION BY provisioner, tags)::int AS size
       FROM provisioner_jobs
       WHERE started_at IS NULL AND completed_at IS NULL AND canceled_at IS NULL
     )
     SELECT id, position, size FROM pending WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  for (const r of rows) out.set(r.id, { position: r.position, size: r.size });
  return out;
}

export interface ProvisionerJobLogRow {
  id: number;
  job_id: string;
  created_at: Date;
  source: 'provisioner_daemon' | 'provisioner';
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  stage: string;
  output: string;
}

/**
 * A job's log lines with `after < id < before` (each bound optional), ascending. AND semantics, not Coder's OR
 * (deviation 6). `limit` bounds one page of a follower's catch-up.
 */
export async function getProvisionerJobLogs(
  db: Queryable,
  jobId: string,
  range: { after?: number; before?: number; limit?: number } = {},
): Promise<ProvisionerJobLogRow[]> {
  const { rows } = await db.query<ProvisionerJobLogRow>(
    `SELECT id, job_id, created_at, source, level, stage, output FROM provisioner_job_logs
     WHERE job_id = $1 AND ($2::bigint IS NULL OR id > $2) AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id LIMIT $4`,
    [jobId, range.after ?? null, range.before ?? null, range.limit ?? null],
  );
  return rows;
}

/**
 * Marks a job canceled. A job no daemon has taken is completed at the same instant (it goes straight to `canceled`);
 * a running one only gets `canceled_at`, and its daemon finishes it.
 */
export async function updateProvisionerJobCanceled(db: Queryable, id: string, now: Date): Promise<ProvisionerJobRow> {
  const { rows } = await db.query<ProvisionerJobRow>(
    `UPDATE provisioner_jobs SET canceled_at = $2, updated_at = $2,
       completed_at = CASE WHEN worker_id IS NULL THEN $2::timestamptz ELSE completed_at END
     WHERE id = $1 RETURNING *`,
    [id, now],
  );
  return rows[0] as ProvisionerJobRow;
}
