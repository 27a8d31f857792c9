import type { Queryable } from '../pool.js';

import { VERSION_PARAMETERS_JSON } from './buildCreation.js';
import type { TemplateVersionParameterRow } from './parameters.js';
import type { ProvisionerJobRow } from './provisionerJobs.js';
import { revive } from './views.js';

export interface TemplateRow {
  id: string;
  created_at: Date;
  updated_at: Date;
  organization_id: string;
  deleted: boolean;
  name: string;
  display_name: string;
  description: string;
  icon: string;
  provisioner: string;
  active_version_id: string;
  default_ttl_ms: number;
  allow_user_cancel_workspace_jobs: boolean;
  created_by: string;
}

export interface TemplateVersionRow {
  id: string;
  template_id: string | null;
  organization_id: string;
  created_at: Date;
  updated_at: Date;
  name: string;
  readme: string;
  job_id: string;
  created_by: string;
}

export async function getTemplateByID(db: Queryable, id: string): Promise<TemplateRow | undefined> {
  const { rows } = await db.query<TemplateRow>('SELECT * FROM templates WHERE id = $1', [id]);
  return rows[0];
}

export async function getTemplatesByIDs(db: Queryable, ids: string[]): Promise<TemplateRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<TemplateRow>('SELECT * FROM templates WHERE id = ANY($1::uuid[])', [ids]);
  return rows;
}

/**
 * What a new build needs of its template version, in ONE statement: the version, its template (undefined: none), its
 * import job (undefined: gone) and its rich parameter declarations, read together as JSON and revived into the usual
 * row types.
 */
export async function getTemplateVersionForBuild(
  db: Queryable,
  id: string,
): Promise<{ version: TemplateVersionRow; template?: TemplateRow; importJob?: ProvisionerJobRow; parameters: TemplateVersionParameterRow[] } | undefined> {
  const { rows } = await db.query<{ version: Record<string, unknown>; template: Record<string, unknown> | null; job: Record<string, unknown> | null; parameters: TemplateVersionParameterRow[] }>({
    name: 'kiln_template_version_for_build',
    text: `SELECT to_jsonb(v) AS version, to_jsonb(t) AS template, to_jsonb(j) AS job, ${VERSION_PARAMETERS_JSON('v')} AS parameters
     FROM template_versions v LEFT JOIN templates t ON t.id = v.template_id LEFT JOIN provisioner_jobs j ON j.id = v.job_id
     WHERE v.id = $1`,
    values: [id],
  });
  const r = rows[0];
  if (!r) return undefined;
  return {
    version: revive<TemplateVersionRow>(r.version),
    template: r.template ? revive<TemplateRow>(r.template) : undefined,
    importJob: r.job ? revive<ProvisionerJobRow>(r.job) : undefined,
    parameters: r.parameters,
  };
}

export async function getTemplateVersionByID(db: Queryable, id: string): Promise<TemplateVersionRow | undefined> {
  const { rows } = await db.query<TemplateVersionRow>('SELECT * FROM template_versions WHERE id = $1', [id]);
  return rows[0];
}

// --- Template routes: lookups, writes and the aggregates a Template carries on the wire.

/** A live (not soft-deleted) template by organization and name; names compare case-insensitively, as the index does. */
export async function getTemplateByOrganizationAndName(db: Queryable, organizationId: string, name: string): Promise<TemplateRow | undefined> {
  const { rows } = await db.query<TemplateRow>('SELECT * FROM templates WHERE organization_id = $1 AND lower(name) = lower($2) AND NOT deleted', [
    organizationId,
    name,
  ]);
  return rows[0];
}

/** Live templates of an organization, by name (Coder's order before its stable sort on active users). */
export async function getTemplatesByOrganization(db: Queryable, organizationId: string): Promise<TemplateRow[]> {
  const { rows } = await db.query<TemplateRow>('SELECT * FROM templates WHERE organization_id = $1 AND NOT deleted ORDER BY lower(name), id', [
    organizationId,
  ]);
  return rows;
}

/** Locks the template row, so a delete and a concurrent meta update or promotion apply one after the other. */
/**
 * Share-locks the template row: a workspace being created holds it until commit, so a template delete (which takes
 * FOR UPDATE and then counts live workspaces) either waits and sees the workspace, or finishes first and is seen here.
 */
export async function getTemplateByIDForShare(db: Queryable, id: string): Promise<TemplateRow | undefined> {
  const { rows } = await db.query<TemplateRow>('SELECT * FROM templates WHERE id = $1 FOR SHARE', [id]);
  return rows[0];
}

export async function getTemplateByIDForUpdate(db: Queryable, id: string): Promise<TemplateRow | undefined> {
  const { rows } = await db.query<TemplateRow>('SELECT * FROM templates WHERE id = $1 FOR UPDATE', [id]);
  return rows[0];
}

export interface InsertTemplateParams {
  id: string;
  now: Date;
  organizationId: string;
  name: string;
  displayName: string;
  description: string;
  icon: string;
  provisioner: string;
  activeVersionId: string;
  defaultTtlMs: number;
  allowUserCancelWorkspaceJobs: boolean;
  createdBy: string;
}

export async function insertTemplate(db: Queryable, p: InsertTemplateParams): Promise<TemplateRow> {
  const { rows } = await db.query<TemplateRow>(
    `INSERT INTO templates (id, created_at, updated_at, organization_id, name, display_name, description, icon, provisioner,
                            active_version_id, default_ttl_ms, allow_user_cancel_workspace_jobs, created_by)
     VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
    [p.id, p.now, p.organizationId, p.name, p.displayName, p.description, p.icon, p.provisioner, p.activeVersionId, p.defaultTtlMs, p.allowUserCancelWorkspaceJobs, p.createdBy],
  );
  return rows[0] as TemplateRow;
}

export interface UpdateTemplateMetaParams {
  id: string;
  now: Date;
  name: string;
  displayName: string;
  description: string;
  icon: string;
  defaultTtlMs: number;
  allowUserCancelWorkspaceJobs: boolean;
}

export async function updateTemplateMeta(db: Queryable, p: UpdateTemplateMetaParams): Promise<TemplateRow> {
  const { rows } = await db.query<TemplateRow>(
    `UPDATE templates SET updated_at = $2, name = $3, display_name = $4, description = $5, icon = $6, default_ttl_ms = $7,
       allow_user_cancel_workspace_jobs = $8
     WHERE id = $1 RETURNING *`,
    [p.id, p.now, p.name, p.displayName, p.description, p.icon, p.defaultTtlMs, p.allowUserCancelWorkspaceJobs],
  );
  return rows[0] as TemplateRow;
}

export async function updateTemplateActiveVersion(db: Queryable, id: string, versionId: string, now: Date): Promise<void> {
  await db.query('UPDATE templates SET active_version_id = $2, updated_at = $3 WHERE id = $1', [id, versionId, now]);
}

/** Soft delete: the row stays so the versions, builds and workspaces that point at it remain readable. */
export async function updateTemplateDeleted(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('UPDATE templates SET deleted = true, updated_at = $2 WHERE id = $1', [id, now]);
}

/** True while any non-deleted workspace uses the template: such a template cannot be deleted. */
export async function templateHasLiveWorkspaces(db: Queryable, templateId: string): Promise<boolean> {
  const { rows } = await db.query<{ exists: boolean }>('SELECT EXISTS (SELECT 1 FROM workspaces WHERE template_id = $1 AND NOT deleted) AS exists', [
    templateId,
  ]);
  return rows[0]?.exists ?? false;
}

/** Distinct owners of non-deleted workspaces, per template (`workspace_owner_count`). Templates without any are absent. */
export async function getWorkspaceOwnerCountsByTemplateIDs(db: Queryable, templateIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (templateIds.length === 0) return out;
  const { rows } = await db.query<{ template_id: string; n: number }>(
    `SELECT template_id, count(DISTINCT owner_id)::int AS n FROM workspaces
     WHERE template_id = ANY($1::uuid[]) AND NOT deleted GROUP BY template_id`,
    [templateIds],
  );
  for (const r of rows) out.set(r.template_id, r.n);
  return out;
}

export interface BuildTimeStatsRow {
  template_id: string;
  transition: 'start' | 'stop' | 'delete';
  p50_ms: number;
  p95_ms: number;
}

/**
 * Median and 95th percentile of how long successful builds of each template took (job start to completion), per
 * transition, over builds created since `since`. Canceled and failed builds are left out: they say nothing about
 * how long a build takes.
 */
export async function getTemplateBuildTimeStats(db: Queryable, templateIds: string[], since: Date): Promise<BuildTimeStatsRow[]> {
  if (templateIds.length === 0) return [];
  const { rows } = await db.query<BuildTimeStatsRow>(
    `SELECT v.template_id, b.transition,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM j.completed_at - j.started_at)) * 1000 AS p50_ms,
            percentile_disc(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM j.completed_at - j.started_at)) * 1000 AS p95_ms
     FROM workspace_builds b
     JOIN template_versions v ON v.id = b.template_version_id
     JOIN provisioner_jobs j ON j.id = b.job_id
     WHERE v.template_id = ANY($1::uuid[]) AND b.created_at >= $2
       AND j.started_at IS NOT NULL AND j.completed_at IS NOT NULL AND j.canceled_at IS NULL AND coalesce(j.error, '') = ''
     GROUP BY v.template_id, b.transition`,
    [templateIds, since],
  );
  return rows.map((r) => ({ ...r, p50_ms: Math.round(Number(r.p50_ms)), p95_ms: Math.round(Number(r.p95_ms)) }));
}

// --- Lookups of later Coder's template routes.

/** Live templates of the given organizations (every organization when `organizationIds` is undefined), by name. */
export async function getTemplatesInOrganizations(db: Queryable, organizationIds: string[] | undefined): Promise<TemplateRow[]> {
  const { rows } = await db.query<TemplateRow>(
    'SELECT * FROM templates WHERE NOT deleted AND ($1::uuid[] IS NULL OR organization_id = ANY($1::uuid[])) ORDER BY lower(name), id',
    [organizationIds ?? null],
  );
  return rows;
}

/** A version of a template by its name (names are unique within a template). */
export async function getTemplateVersionByTemplateAndName(db: Queryable, templateId: string, name: string): Promise<TemplateVersionRow | undefined> {
  const { rows } = await db.query<TemplateVersionRow>('SELECT * FROM template_versions WHERE template_id = $1 AND name = $2', [templateId, name]);
  return rows[0];
}

/** The version of the same template created just before `v` (Coder's "previous" version). */
export async function getPreviousTemplateVersion(db: Queryable, v: TemplateVersionRow): Promise<TemplateVersionRow | undefined> {
  const { rows } = await db.query<TemplateVersionRow>(
    `SELECT * FROM template_versions WHERE template_id = $1 AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT 1`,
    [v.template_id, v.created_at, v.id],
  );
  return rows[0];
}
