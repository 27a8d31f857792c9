import type { Queryable } from '../pool.js';

/** A stored rich parameter declaration of a template version (migration 000080). */
export interface TemplateVersionParameterRow {
  template_version_id: string;
  name: string;
  display_name: string;
  description: string;
  type: 'string' | 'number' | 'bool' | 'list(string)';
  form_type: string;
  mutable: boolean;
  default_value: string;
  icon: string;
  options: { name: string; description: string; value: string; icon: string }[];
  validation_regex: string;
  validation_error: string;
  validation_min: number | null;
  validation_max: number | null;
  validation_monotonic: '' | 'increasing' | 'decreasing';
  required: boolean;
  ephemeral: boolean;
  display_order: number;
}

export interface TemplateVersionVariableRow {
  template_version_id: string;
  name: string;
  description: string;
  type: 'string' | 'number' | 'bool';
  value: string;
  default_value: string;
  required: boolean;
  sensitive: boolean;
}

export interface NameValue {
  name: string;
  value: string;
}

/** Stores a version's declarations in one statement (the rows travel as one JSON array). */
export async function insertTemplateVersionParameters(db: Queryable, versionId: string, rows: Omit<TemplateVersionParameterRow, 'template_version_id'>[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO template_version_parameters (template_version_id, name, display_name, description, type, form_type, mutable, default_value, icon,
       options, validation_regex, validation_error, validation_min, validation_max, validation_monotonic, required, ephemeral, display_order)
     SELECT $1, r.name, r.display_name, r.description, r.type, r.form_type, r.mutable, r.default_value, r.icon,
       r.options, r.validation_regex, r.validation_error, r.validation_min, r.validation_max, r.validation_monotonic, r.required, r.ephemeral, r.display_order
     FROM jsonb_to_recordset($2::jsonb) AS r(name text, display_name text, description text, type text, form_type text, mutable boolean,
       default_value text, icon text, options jsonb, validation_regex text, validation_error text, validation_min integer, validation_max integer,
       validation_monotonic text, required boolean, ephemeral boolean, display_order integer)`,
    [versionId, JSON.stringify(rows)],
  );
}

/** A version's parameters in display order: `order`, then name (as Coder sorts them). */
export async function getTemplateVersionParameters(db: Queryable, versionId: string): Promise<TemplateVersionParameterRow[]> {
  const { rows } = await db.query<TemplateVersionParameterRow>(
    'SELECT * FROM template_version_parameters WHERE template_version_id = $1 ORDER BY display_order, name',
    [versionId],
  );
  return rows;
}

export async function insertTemplateVersionVariables(db: Queryable, versionId: string, rows: Omit<TemplateVersionVariableRow, 'template_version_id'>[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO template_version_variables (template_version_id, name, description, type, value, default_value, required, sensitive)
     SELECT $1, r.name, r.description, r.type, r.value, r.default_value, r.required, r.sensitive
     FROM jsonb_to_recordset($2::jsonb) AS r(name text, description text, type text, value text, default_value text, required boolean, sensitive boolean)`,
    [versionId, JSON.stringify(rows)],
  );
}

export async function getTemplateVersionVariables(db: Queryable, versionId: string): Promise<TemplateVersionVariableRow[]> {
  const { rows } = await db.query<TemplateVersionVariableRow>('SELECT * FROM template_version_variables WHERE template_version_id = $1 ORDER BY name', [versionId]);
  return rows;
}

/** The values given at version creation, kept until the import declares the variables. */
export async function getTemplateVersionUserVariableValues(db: Queryable, versionId: string): Promise<NameValue[]> {
  const { rows } = await db.query<{ user_variable_values: NameValue[] }>('SELECT user_variable_values FROM template_versions WHERE id = $1', [versionId]);
  return rows[0]?.user_variable_values ?? [];
}

export async function setTemplateVersionUserVariableValues(db: Queryable, versionId: string, values: NameValue[]): Promise<void> {
  await db.query('UPDATE template_versions SET user_variable_values = $2::jsonb WHERE id = $1', [versionId, JSON.stringify(values)]);
}

export async function getWorkspaceBuildParameters(db: Queryable, buildId: string): Promise<NameValue[]> {
  const { rows } = await db.query<NameValue>('SELECT name, value FROM workspace_build_parameters WHERE workspace_build_id = $1 ORDER BY name', [buildId]);
  return rows;
}
