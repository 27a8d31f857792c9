import type { Queryable } from '../pool.js';

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
}

export async function updateWorkspaceBuildDeadline(db: Queryable, id: string, deadline: Date, now: Date): Promise<void> {
  await db.query('UPDATE workspace_builds SET deadline = $2, updated_at = $3 WHERE id = $1', [id, deadline, now]);
}

/** What a build's logs endpoint needs (`getBuildLogsTarget`); null columns where a row the build points at is missing. */
export interface BuildLogsTarget {
  job_id: string;
  workspace_owner_id: string | null;
  job_found: boolean;
  job_completed_at: Date | null;
}

/**
 * A build's job, whether it has completed, and its workspace's owner (readability), in ONE statement: a follower of a
 * build's logs costs this and its stream's shared queries, and 100 followers may join at once.
 */
export async function getBuildLogsTarget(db: Queryable, buildId: string): Promise<BuildLogsTarget | undefined> {
  const { rows } = await db.query<BuildLogsTarget>(
    `SELECT b.job_id, w.owner_id AS workspace_owner_id, j.id IS NOT NULL AS job_found, j.completed_at AS job_completed_at
     FROM workspace_builds b
       LEFT JOIN workspaces w ON w.id = b.workspace_id
       LEFT JOIN provisioner_jobs j ON j.id = b.job_id
     WHERE b.id = $1`,
    [buildId],
  );
  return rows[0];
}
