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
  key_id: string | null;
  api_version: string;
  builtin: boolean;
  instance_id: string;
  auth: 'built-in' | 'key' | 'psk' | 'user-auth';
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

/** An external daemon of an organization, by name (its identity across reconnects). Locked for the caller's transaction. */
export async function getExternalProvisionerDaemonByNameForUpdate(db: Queryable, organizationId: string, name: string): Promise<ProvisionerDaemonRow | undefined> {
  const { rows } = await db.query<ProvisionerDaemonRow>(
    'SELECT * FROM provisioner_daemons WHERE organization_id = $1 AND name = $2 AND NOT builtin ORDER BY created_at LIMIT 1 FOR UPDATE',
    [organizationId, name],
  );
  return rows[0];
}

export interface ExternalDaemonParams {
  id: string;
  name: string;
  organizationId: string;
  provisioners: string[];
  tags: Record<string, string>;
  keyId: string | null;
  version: string;
  apiVersion: string;
  instanceId: string;
  auth: 'key' | 'psk' | 'user-auth';
  now: Date;
}

export async function insertExternalProvisionerDaemon(db: Queryable, p: ExternalDaemonParams): Promise<ProvisionerDaemonRow> {
  const { rows } = await db.query<ProvisionerDaemonRow>(
    `INSERT INTO provisioner_daemons (id, name, provisioners, tags, organization_id, version, created_at, updated_at, last_seen_at, key_id, api_version, builtin, instance_id, auth)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8, $9, false, $10, $11) RETURNING *`,
    [p.id, p.name, p.provisioners, JSON.stringify(p.tags), p.organizationId, p.version, p.now, p.keyId, p.apiVersion, p.instanceId, p.auth],
  );
  return rows[0] as ProvisionerDaemonRow;
}

/** A daemon registering again under its name: what it runs, its tags and its key may have changed. */
export async function updateExternalProvisionerDaemon(db: Queryable, p: ExternalDaemonParams): Promise<ProvisionerDaemonRow> {
  const { rows } = await db.query<ProvisionerDaemonRow>(
    `UPDATE provisioner_daemons SET provisioners = $2, tags = $3, version = $4, updated_at = $5, last_seen_at = $5, key_id = $6, api_version = $7, instance_id = $8, auth = $9
     WHERE id = $1 RETURNING *`,
    [p.id, p.provisioners, JSON.stringify(p.tags), p.version, p.now, p.keyId, p.apiVersion, p.instanceId, p.auth],
  );
  return rows[0] as ProvisionerDaemonRow;
}

/**
 * The daemon process `instanceId` disconnected: another process may take the name now. Not when the row was seen after
 * `lastSeenAt`: the same process has reconnected through another replica meanwhile.
 */
export async function releaseDaemonInstance(db: Queryable, id: string, instanceId: string, lastSeenAt: Date): Promise<void> {
  await db.query(`UPDATE provisioner_daemons SET instance_id = '' WHERE id = $1 AND instance_id = $2 AND last_seen_at <= $3`, [id, instanceId, lastSeenAt]);
}

export async function updateProvisionerDaemonsLastSeen(db: Queryable, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.query('UPDATE provisioner_daemons SET last_seen_at = $2 WHERE id = ANY($1::uuid[])', [ids, now]);
}

export async function deleteProvisionerDaemons(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('DELETE FROM provisioner_daemons WHERE id = ANY($1::uuid[])', [ids]);
}

export interface DaemonJobSummary {
  id: string;
  started_at: Date | null;
  completed_at: Date | null;
  canceled_at: Date | null;
  error: string | null;
  template_name: string;
  template_display_name: string;
  template_icon: string;
}

export interface ProvisionerDaemonWithJobsRow extends ProvisionerDaemonRow {
  key_name: string | null;
  current_job: DaemonJobSummary | null;
  previous_job: DaemonJobSummary | null;
}

/** The template a job belongs to: through its build's version, or the version it imports. */
const JOB_SUMMARY = `json_build_object(
  'id', j.id, 'started_at', j.started_at, 'completed_at', j.completed_at, 'canceled_at', j.canceled_at, 'error', j.error,
  'template_name', COALESCE(t.name, ''), 'template_display_name', COALESCE(t.display_name, ''), 'template_icon', COALESCE(t.icon, ''))`;
const JOB_TEMPLATE_JOIN = `LEFT JOIN workspace_builds wb ON wb.job_id = j.id
       LEFT JOIN template_versions tv ON tv.id = wb.template_version_id OR tv.job_id = j.id
       LEFT JOIN templates t ON t.id = tv.template_id`;

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
 * Daemons serving an organization (built-in ones serve every organization) with their key's name and their current
 * and previous job, oldest first. `tags`: only daemons carrying every one of them.
 */
export async function getProvisionerDaemonsWithJobs(
  db: Queryable,
  p: { organizationId: string; tags?: Record<string, string>; limit?: number },
): Promise<ProvisionerDaemonWithJobsRow[]> {
  const { rows } = await db.query<ProvisionerDaemonWithJobsRow & { current_job: unknown; previous_job: unknown }>(
    `SELECT d.*, k.name AS key_name, cur.job AS current_job, prev.job AS previous_job
     FROM provisioner_daemons d
     LEFT JOIN provisioner_keys k ON k.id = d.key_id
     LEFT JOIN LATERAL (
       SELECT ${JOB_SUMMARY} AS job FROM provisioner_jobs j ${JOB_TEMPLATE_JOIN}
       WHERE j.worker_id = d.id AND j.started_at IS NOT NULL AND j.completed_at IS NULL
       ORDER BY j.started_at DESC LIMIT 1
     ) cur ON true
     LEFT JOIN LATERAL (
       SELECT ${JOB_SUMMARY} AS job FROM provisioner_jobs j ${JOB_TEMPLATE_JOIN}
       WHERE j.worker_id = d.id AND j.completed_at IS NOT NULL
       ORDER BY j.started_at DESC LIMIT 1
     ) prev ON true
     WHERE (d.organization_id = $1 OR d.organization_id IS NULL) AND ($2::jsonb IS NULL OR d.tags @> $2::jsonb)
     ORDER BY d.created_at, d.name
     LIMIT $3`,
    [p.organizationId, p.tags ? JSON.stringify(p.tags) : null, p.limit ?? null],
  );
  return rows.map((r) => ({ ...r, current_job: parseSummary(r.current_job), previous_job: parseSummary(r.previous_job) }));
}

function parseSummary(v: unknown): DaemonJobSummary | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const date = (x: unknown) => (typeof x === 'string' ? new Date(x) : null);
  return {
    id: String(o.id),
    started_at: date(o.started_at),
    completed_at: date(o.completed_at),
    canceled_at: date(o.canceled_at),
    error: typeof o.error === 'string' ? o.error : null,
    template_name: String(o.template_name ?? ''),
    template_display_name: String(o.template_display_name ?? ''),
    template_icon: String(o.template_icon ?? ''),
  };
}

/** Daemons able to take a job with these tags in this organization: for a template version's `matched_provisioners`. */
export async function getEligibleProvisionerDaemons(
  db: Queryable,
  p: { organizationId: string; provisioner: string; tags: Record<string, string> },
): Promise<{ id: string; last_seen_at: Date }[]> {
  const { rows } = await db.query<{ id: string; last_seen_at: Date }>(
    `SELECT id, last_seen_at FROM provisioner_daemons
     WHERE (organization_id = $1 OR organization_id IS NULL) AND $2 = ANY(provisioners) AND $3::jsonb <@ tags`,
    [p.organizationId, p.provisioner, JSON.stringify(p.tags)],
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

/** Running jobs of these daemons (a deleted key's daemons: their jobs are failed). */
export async function getRunningJobIDsOfWorkers(db: Queryable, workerIds: string[]): Promise<string[]> {
  if (workerIds.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM provisioner_jobs WHERE worker_id = ANY($1::uuid[]) AND started_at IS NOT NULL AND completed_at IS NULL',
    [workerIds],
  );
  return rows.map((r) => r.id);
}
