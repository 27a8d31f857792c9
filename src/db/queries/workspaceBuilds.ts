import type { Queryable } from '../pool.js';

import type { ProvisionerJobRow } from './provisionerJobs.js';

export interface WorkspaceBuildRow {
  id: string;
  created_at: Date;
  updated_at: Date;
  workspace_id: string;
  template_version_id: string;
  build_number: number;
  transition: 'start' | 'stop' | 'delete';
  initiator_id: string;
  provisioner_state: Buffer | null;
  job_id: string;
  deadline: Date | null;
  reason: 'initiator' | 'autostart' | 'autostop';
  daily_cost: number;
}

/** Every column but the state, which can be large and is only read by the state endpoint and the daemon. */
const COLUMNS = 'id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, NULL::bytea AS provisioner_state, job_id, deadline, reason, daily_cost';

export async function getWorkspaceBuildByID(db: Queryable, id: string): Promise<WorkspaceBuildRow | undefined> {
  const { rows } = await db.query<WorkspaceBuildRow>(`SELECT ${COLUMNS} FROM workspace_builds WHERE id = $1`, [id]);
  return rows[0];
}

/** Replaces a build's provisioner state (`PUT /workspacebuilds/{id}/state`). */
export async function updateWorkspaceBuildState(db: Queryable, id: string, state: Buffer, now: Date): Promise<void> {
  await db.query('UPDATE workspace_builds SET provisioner_state = $2, updated_at = $3 WHERE id = $1', [id, state, now]);
}

export async function getWorkspaceBuildState(db: Queryable, id: string): Promise<Buffer | null> {
  const { rows } = await db.query<{ provisioner_state: Buffer | null }>('SELECT provisioner_state FROM workspace_builds WHERE id = $1', [id]);
  return rows[0]?.provisioner_state ?? null;
}

export async function getWorkspaceBuildByNumber(db: Queryable, workspaceId: string, buildNumber: number): Promise<WorkspaceBuildRow | undefined> {
  const { rows } = await db.query<WorkspaceBuildRow>(`SELECT ${COLUMNS} FROM workspace_builds WHERE workspace_id = $1 AND build_number = $2`, [workspaceId, buildNumber]);
  return rows[0];
}

/** "Latest" is the highest build number, whatever its state. The state is included: a new build copies it. */
export async function getLatestWorkspaceBuild(db: Queryable, workspaceId: string): Promise<WorkspaceBuildRow | undefined> {
  const { rows } = await db.query<WorkspaceBuildRow>('SELECT * FROM workspace_builds WHERE workspace_id = $1 ORDER BY build_number DESC LIMIT 1', [workspaceId]);
  return rows[0];
}

/** The latest build (state included) and its job's timestamps, in one round trip: what a new build checks. */
export async function getLatestWorkspaceBuildWithJob(
  db: Queryable,
  workspaceId: string,
): Promise<{ build: WorkspaceBuildRow; job: Pick<ProvisionerJobRow, 'started_at' | 'completed_at' | 'canceled_at' | 'error'> | undefined } | undefined> {
  const { rows } = await db.query<WorkspaceBuildRow & { job_started_at: Date | null; job_completed_at: Date | null; job_canceled_at: Date | null; job_error: string | null; job_found: boolean }>(
    `SELECT b.*, j.started_at AS job_started_at, j.completed_at AS job_completed_at, j.canceled_at AS job_canceled_at, j.error AS job_error,
            j.id IS NOT NULL AS job_found
     FROM workspace_builds b LEFT JOIN provisioner_jobs j ON j.id = b.job_id
     WHERE b.workspace_id = $1 ORDER BY b.build_number DESC LIMIT 1`,
    [workspaceId],
  );
  const r = rows[0];
  if (!r) return undefined;
  const { job_started_at, job_completed_at, job_canceled_at, job_error, job_found, ...build } = r;
  return {
    build,
    job: job_found ? { started_at: job_started_at, completed_at: job_completed_at, canceled_at: job_canceled_at, error: job_error } : undefined,
  };
}

export async function getWorkspaceBuildByJobID(db: Queryable, jobId: string): Promise<WorkspaceBuildRow | undefined> {
  const { rows } = await db.query<WorkspaceBuildRow>(`SELECT ${COLUMNS} FROM workspace_builds WHERE job_id = $1`, [jobId]);
  return rows[0];
}

export interface InsertWorkspaceBuildParams {
  id: string;
  now: Date;
  workspaceId: string;
  templateVersionId: string;
  buildNumber: number;
  transition: 'start' | 'stop' | 'delete';
  initiatorId: string;
  state: Buffer | null;
  jobId: string;
  reason: 'initiator' | 'autostart' | 'autostop';
  /** The workspace's channel: the same statement notifies it, sent when the transaction commits. */
  notifyChannel: string;
}

export async function insertWorkspaceBuild(db: Queryable, p: InsertWorkspaceBuildParams): Promise<WorkspaceBuildRow> {
  const { rows } = await db.query<WorkspaceBuildRow>(
    `WITH build AS (
       INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, provisioner_state, job_id, reason)
       VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}),
     note AS (SELECT pg_notify($11, ''))
     SELECT build.* FROM build WHERE (SELECT count(*) FROM note) >= 0`,
    [p.id, p.now, p.workspaceId, p.templateVersionId, p.buildNumber, p.transition, p.initiatorId, p.state, p.jobId, p.reason, p.notifyChannel],
  );
  return rows[0] as WorkspaceBuildRow;
}

export async function updateWorkspaceBuildDeadline(db: Queryable, id: string, deadline: Date, now: Date): Promise<void> {
  await db.query('UPDATE workspace_builds SET deadline = $2, updated_at = $3 WHERE id = $1', [id, deadline, now]);
}
