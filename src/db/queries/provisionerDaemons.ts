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
  p: { id: string; name: string; provisioners: string[]; tags: Record<string, string>; organizationId: string | null; version: string; now: Date },
): Promise<ProvisionerDaemonRow> {
  const { rows } = await db.query<ProvisionerDaemonRow>(
    `INSERT INTO provisioner_daemons (id, name, provisioners, tags, organization_id, version, created_at, updated_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) RETURNING *`,
    [p.id, p.name, p.provisioners, JSON.stringify(p.tags), p.organizationId, p.version, p.now],
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

export interface MatchedProvisionersRow {
  job_id: string;
  count: number;
  available: number;
  most_recently_seen: Date | null;
}

/**
 * For each job, the registered daemons that could acquire it (same rule as acquireProvisionerJob: the provisioner is
 * one they offer, every tag the job requires is theirs, and they serve its organization or every one); `available`
 * counts those whose heartbeat is newer than `seenSince`.
 */
export async function getMatchedProvisioners(db: Queryable, jobIds: string[], seenSince: Date): Promise<Map<string, MatchedProvisionersRow>> {
  if (jobIds.length === 0) return new Map();
  const { rows } = await db.query<MatchedProvisionersRow>(
    `SELECT j.id AS job_id, count(d.id)::int AS count,
            (count(d.id) FILTER (WHERE d.last_seen_at > $2))::int AS available,
            max(d.last_seen_at) AS most_recently_seen
     FROM provisioner_jobs j
     LEFT JOIN provisioner_daemons d
       ON j.provisioner = ANY(d.provisioners) AND j.tags <@ d.tags
      AND (d.organization_id IS NULL OR d.organization_id = j.organization_id)
     WHERE j.id = ANY($1::uuid[])
     GROUP BY j.id`,
    [jobIds, seenSince],
  );
  return new Map(rows.map((r) => [r.job_id, r]));
}
