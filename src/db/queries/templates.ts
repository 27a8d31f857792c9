import type { Queryable } from '../pool.js';

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

export async function getTemplateVersionByID(db: Queryable, id: string): Promise<TemplateVersionRow | undefined> {
  const { rows } = await db.query<TemplateVersionRow>('SELECT * FROM template_versions WHERE id = $1', [id]);
  return rows[0];
}

export async function getTemplateVersionsByIDs(db: Queryable, ids: string[]): Promise<TemplateVersionRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<TemplateVersionRow>('SELECT * FROM template_versions WHERE id = ANY($1::uuid[])', [ids]);
  return rows;
}
