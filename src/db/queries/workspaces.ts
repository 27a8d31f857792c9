import type { Queryable } from '../pool.js';

export interface WorkspaceRow {
  id: string;
  created_at: Date;
  updated_at: Date;
  owner_id: string;
  organization_id: string;
  template_id: string;
  deleted: boolean;
  name: string;
  autostart_schedule: string | null;
  ttl_ms: number | null;
  last_used_at: Date;
}

export async function getWorkspaceByID(db: Queryable, id: string): Promise<WorkspaceRow | undefined> {
  const { rows } = await db.query<WorkspaceRow>('SELECT * FROM workspaces WHERE id = $1', [id]);
  return rows[0];
}

/** The live workspace of that owner and name; with `deleted`, the most recently deleted one instead. */
export async function getWorkspaceByOwnerAndName(db: Queryable, ownerId: string, name: string, deleted = false): Promise<WorkspaceRow | undefined> {
  const { rows } = await db.query<WorkspaceRow>(
    'SELECT * FROM workspaces WHERE owner_id = $1 AND lower(name) = lower($2) AND deleted = $3 ORDER BY created_at DESC LIMIT 1',
    [ownerId, name, deleted],
  );
  return rows[0];
}

export interface InsertWorkspaceParams {
  id: string;
  now: Date;
  ownerId: string;
  organizationId: string;
  templateId: string;
  name: string;
  autostartSchedule: string | null;
  ttlMs: number | null;
}

export async function insertWorkspace(db: Queryable, p: InsertWorkspaceParams): Promise<WorkspaceRow> {
  const { rows } = await db.query<WorkspaceRow>(
    `INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name, autostart_schedule, ttl_ms, last_used_at)
     VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $2) RETURNING *`,
    [p.id, p.now, p.ownerId, p.organizationId, p.templateId, p.name, p.autostartSchedule, p.ttlMs],
  );
  return rows[0] as WorkspaceRow;
}

export async function updateWorkspaceTTL(db: Queryable, id: string, ttlMs: number | null, now: Date): Promise<void> {
  await db.query('UPDATE workspaces SET ttl_ms = $2, updated_at = $3 WHERE id = $1', [id, ttlMs, now]);
}

/** Renames a workspace; a name taken by another live workspace of the owner raises a unique violation. */
export async function updateWorkspaceName(db: Queryable, id: string, name: string, now: Date): Promise<void> {
  await db.query('UPDATE workspaces SET name = $2, updated_at = $3 WHERE id = $1', [id, name, now]);
}

export async function updateWorkspaceAutostart(db: Queryable, id: string, schedule: string | null, now: Date): Promise<void> {
  await db.query('UPDATE workspaces SET autostart_schedule = $2, updated_at = $3 WHERE id = $1', [id, schedule, now]);
}

/** Legacy parameters at workspace scope, written in one statement; a value with the same name is replaced. */
export async function upsertWorkspaceParameterValues(
  db: Queryable,
  workspaceId: string,
  now: Date,
  values: readonly { id: string; name: string; sourceScheme: string; sourceValue: string; destinationScheme: string }[],
): Promise<void> {
  // One row per name, the last one given winning (as one upsert per entry did): ON CONFLICT cannot touch a row twice.
  const byName = new Map(values.map((v) => [v.name, v]));
  if (byName.size === 0) return;
  const rows = [...byName.values()];
  await db.query(
    `INSERT INTO parameter_values (id, created_at, updated_at, scope, scope_id, name, source_scheme, source_value, destination_scheme)
     SELECT v.id, $1, $1, 'workspace', $2, v.name, v.source_scheme, v.source_value, v.destination_scheme
     FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[]) AS v(id, name, source_scheme, source_value, destination_scheme)
     ON CONFLICT (scope, scope_id, name) DO UPDATE SET source_scheme = EXCLUDED.source_scheme, source_value = EXCLUDED.source_value,
       destination_scheme = EXCLUDED.destination_scheme, updated_at = EXCLUDED.updated_at`,
    [now, workspaceId, rows.map((r) => r.id), rows.map((r) => r.name), rows.map((r) => r.sourceScheme), rows.map((r) => r.sourceValue), rows.map((r) => r.destinationScheme)],
  );
}
