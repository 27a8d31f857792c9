import type { Queryable } from '../pool.js';

import type { TemplateVersionRow } from './templates.js';

export interface InsertTemplateVersionParams {
  id: string;
  now: Date;
  templateId: string | null;
  organizationId: string;
  name: string;
  jobId: string;
  createdBy: string;
}

export async function insertTemplateVersion(db: Queryable, p: InsertTemplateVersionParams): Promise<TemplateVersionRow> {
  const { rows } = await db.query<TemplateVersionRow>(
    `INSERT INTO template_versions (id, template_id, organization_id, created_at, updated_at, name, job_id, created_by)
     VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING *`,
    [p.id, p.templateId, p.organizationId, p.now, p.name, p.jobId, p.createdBy],
  );
  return rows[0] as TemplateVersionRow;
}

/**
 * Binds a version that belongs to no template yet to `templateId`. Undefined when it already has one: the
 * `template_id IS NULL` guard makes two templates racing for the same version end with exactly one winner.
 */
export async function bindTemplateVersionToTemplate(db: Queryable, id: string, templateId: string, now: Date): Promise<TemplateVersionRow | undefined> {
  const { rows } = await db.query<TemplateVersionRow>(
    'UPDATE template_versions SET template_id = $2, updated_at = $3 WHERE id = $1 AND template_id IS NULL RETURNING *',
    [id, templateId, now],
  );
  return rows[0];
}

export interface ListTemplateVersionsParams {
  templateId: string;
  /** Only versions after this one in (created_at, id) order; it must exist (the caller checks). */
  afterId?: string;
  offset: number;
  /** Undefined: no limit. */
  limit?: number;
}

/** A template's versions, oldest first (Coder's order), paginated. */
export async function listTemplateVersionsByTemplate(db: Queryable, p: ListTemplateVersionsParams): Promise<TemplateVersionRow[]> {
  const { rows } = await db.query<TemplateVersionRow>(
    `SELECT * FROM template_versions
     WHERE template_id = $1
       AND ($2::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM template_versions WHERE id = $2))
     ORDER BY created_at, id
     OFFSET $3 LIMIT $4`,
    [p.templateId, p.afterId ?? null, p.offset, p.limit ?? null],
  );
  return rows;
}

/** Whether the template already has a version of that name (names are unique per template). */
export async function templateVersionNameTaken(db: Queryable, templateId: string, name: string): Promise<boolean> {
  const { rows } = await db.query<{ taken: boolean }>('SELECT EXISTS (SELECT 1 FROM template_versions WHERE template_id = $1 AND name = $2) AS taken', [
    templateId,
    name,
  ]);
  return rows[0]?.taken ?? false;
}
