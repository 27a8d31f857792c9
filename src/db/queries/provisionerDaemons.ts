import type { Queryable } from '../pool.js';

export interface ProvisionerDaemonRow {
  id: string;
  name: string;
  provisioners: string[];
  tags: Record<string, string>;
  organization_id: string | null;
  version: string;
  created_at: Date;
  updated_at: Date;
  last_seen_at: Date;
}

export async function insertProvisionerDaemon(
  db: Queryable,
  p: { id: string; name: string; provisioners: string[]; tags: Record<string, string>; organizationId: string | null; version: string; now: Date; serverId?: string },
): Promise<ProvisionerDaemonRow> {
  const { rows } = await db.query<ProvisionerDaemonRow>(
    `INSERT INTO provisioner_daemons (id, name, provisioners, tags, organization_id, version, created_at, updated_at, last_seen_at, server_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8) RETURNING *`,
    [p.id, p.name, p.provisioners, JSON.stringify(p.tags), p.organizationId, p.version, p.now, p.serverId ?? null],
  );
  return rows[0] as ProvisionerDaemonRow;
}

export async function updateProvisionerDaemonsLastSeen(db: Queryable, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.query('UPDATE provisioner_daemons SET last_seen_at = $2 WHERE id = ANY($1::uuid[])', [ids, now]);
}

export async function deleteProvisionerDaemons(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('DELETE FROM provisioner_daemons WHERE id = ANY($1::uuid[])', [ids]);
}

/** Jobs still running (started, not completed) on built-in daemons a kiln server registered in an earlier life. */
export async function getRunningJobsOfServerDaemons(db: Queryable, serverId: string): Promise<{ job_id: string; daemon_name: string }[]> {
  const { rows } = await db.query<{ job_id: string; daemon_name: string }>(
    `SELECT j.id AS job_id, d.name AS daemon_name FROM provisioner_jobs j JOIN provisioner_daemons d ON d.id = j.worker_id
     WHERE d.server_id = $1 AND j.started_at IS NOT NULL AND j.completed_at IS NULL ORDER BY j.started_at`,
    [serverId],
  );
  return rows;
}

export async function deleteProvisionerDaemonsOfServer(db: Queryable, serverId: string): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM provisioner_daemons WHERE server_id = $1', [serverId]);
  return rowCount ?? 0;
}

/**
 * Daemons serving an organization (those registered without one serve every organization), each with the job it is
 * running now, oldest first.
 */
export async function getProvisionerDaemonsByOrganization(
  db: Queryable,
  organizationId: string,
): Promise<(ProvisionerDaemonRow & { current_job_id: string | null })[]> {
  const { rows } = await db.query<ProvisionerDaemonRow & { current_job_id: string | null }>(
    `SELECT d.*, j.id AS current_job_id
     FROM provisioner_daemons d
     LEFT JOIN LATERAL (
       SELECT id FROM provisioner_jobs
       WHERE worker_id = d.id AND started_at IS NOT NULL AND completed_at IS NULL
       ORDER BY started_at DESC LIMIT 1
     ) j ON true
     WHERE d.organization_id = $1 OR d.organization_id IS NULL
     ORDER BY d.created_at, d.name`,
    [organizationId],
  );
  return rows;
}
