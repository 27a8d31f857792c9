import type { Queryable } from '../pool.js';

import type { NameValue, TemplateVersionVariableRow } from './parameters.js';

/**
 * What the job engine reads and writes about the objects a job works on: the build (and its workspace, owner,
 * template and version) of a workspace-build job, the version of an import job, and the legacy parameters both get.
 */

export interface BuildJobTarget {
  build_id: string;
  build_number: number;
  transition: 'start' | 'stop' | 'delete';
  provisioner_state: Buffer | null;
  template_version_id: string;
  template_version_name: string;
  import_job_id: string;
  workspace_id: string;
  workspace_name: string;
  workspace_ttl_ms: number | null;
  owner_id: string;
  owner_username: string;
  owner_email: string;
  template_id: string;
  template_name: string;
  template_default_ttl_ms: number;
}

export const BUILD_TARGET_COLUMNS = `b.id AS build_id, b.build_number, b.transition, b.provisioner_state, b.template_version_id,
            v.name AS template_version_name, v.job_id AS import_job_id,
            w.id AS workspace_id, w.name AS workspace_name, w.ttl_ms AS workspace_ttl_ms,
            u.id AS owner_id, u.username AS owner_username, u.email AS owner_email,
            t.id AS template_id, t.name AS template_name, t.default_ttl_ms AS template_default_ttl_ms`;

export const BUILD_TARGET_FROM = `FROM workspace_builds b
     JOIN workspaces w ON w.id = b.workspace_id
     JOIN users u ON u.id = w.owner_id
     JOIN templates t ON t.id = w.template_id
     JOIN template_versions v ON v.id = b.template_version_id`;

export async function getBuildJobTarget(db: Queryable, buildId: string): Promise<BuildJobTarget | undefined> {
  const { rows } = await db.query<BuildJobTarget>(`SELECT ${BUILD_TARGET_COLUMNS} ${BUILD_TARGET_FROM} WHERE b.id = $1`, [buildId]);
  return rows[0];
}


/** A workspace-build job's target with everything a daemon is handed for it (`getBuildJobPayload`). */
export interface BuildJobPayload extends BuildJobTarget {
  /** Null when the job's initiator is gone. */
  initiator_username: string | null;
  /** The legacy parameter values of the version's import job, the template and the workspace, by name. */
  parameter_values: ParameterValueRow[];
  /** The build's rich parameter values, by name. */
  rich_parameter_values: NameValue[];
  /** The version's Terraform variables, by name. */
  variables: TemplateVersionVariableRow[];
}

/**
 * A workspace-build job's payload in ONE statement, read when a daemon acquires the job: the build target (as
 * `getBuildJobTarget`), the initiator's name, and, as JSON arrays, the legacy parameter values of the three scopes,
 * the build's rich values and the version's variables, each in the order its own query gives.
 */
export async function getBuildJobPayload(db: Queryable, buildId: string, initiatorId: string): Promise<BuildJobPayload | undefined> {
  const { rows } = await db.query<BuildJobPayload>({ name: 'kiln_build_job_payload', text: BUILD_JOB_PAYLOAD('$1', '$2'), values: [buildId, initiatorId] });
  return rows[0];
}

/** `getBuildJobPayload`'s statement for the build `buildId` and the initiator `initiatorId` (SQL expressions). */
export const BUILD_JOB_PAYLOAD = (buildId: string, initiatorId: string) => `SELECT ${BUILD_TARGET_COLUMNS},
    (SELECT username FROM users WHERE id = ${initiatorId}) AS initiator_username,
    coalesce((SELECT json_agg(json_build_object('scope', p.scope, 'scope_id', p.scope_id, 'name', p.name, 'source_scheme', p.source_scheme,
                                                 'source_value', p.source_value, 'destination_scheme', p.destination_scheme) ORDER BY p.name)
              FROM parameter_values p
              WHERE (p.scope, p.scope_id) IN (('import_job', v.job_id), ('template', t.id), ('workspace', w.id))), '[]') AS parameter_values,
    coalesce((SELECT json_agg(json_build_object('name', bp.name, 'value', bp.value) ORDER BY bp.name)
              FROM workspace_build_parameters bp WHERE bp.workspace_build_id = b.id), '[]') AS rich_parameter_values,
    coalesce((SELECT json_agg(tv ORDER BY tv.name) FROM template_version_variables tv WHERE tv.template_version_id = b.template_version_id), '[]') AS variables
  ${BUILD_TARGET_FROM}
  WHERE b.id = ${buildId}`;

export interface ImportJobTarget {
  template_version_id: string;
  template_version_name: string;
  template_id: string | null;
  template_name: string | null;
  import_job_id: string;
}

export async function getImportJobTarget(db: Queryable, templateVersionId: string): Promise<ImportJobTarget | undefined> {
  const { rows } = await db.query<ImportJobTarget>(
    `SELECT v.id AS template_version_id, v.name AS template_version_name, t.id AS template_id, t.name AS template_name, v.job_id AS import_job_id
     FROM template_versions v LEFT JOIN templates t ON t.id = v.template_id
     WHERE v.id = $1`,
    [templateVersionId],
  );
  return rows[0];
}

export interface ParameterValueRow {
  scope: 'template' | 'import_job' | 'workspace';
  scope_id: string;
  name: string;
  source_scheme: string;
  source_value: string;
  destination_scheme: string;
}

/** Legacy parameter values of the given scopes; the caller resolves precedence. */
export async function getParameterValuesByScopes(db: Queryable, scopes: { scope: ParameterValueRow['scope']; scopeId: string }[]): Promise<ParameterValueRow[]> {
  if (scopes.length === 0) return [];
  const { rows } = await db.query<ParameterValueRow>(
    `SELECT p.scope, p.scope_id, p.name, p.source_scheme, p.source_value, p.destination_scheme
     FROM parameter_values p
     JOIN unnest($1::text[], $2::uuid[]) AS s(scope, scope_id) ON s.scope = p.scope AND s.scope_id = p.scope_id
     ORDER BY p.name`,
    [scopes.map((s) => s.scope), scopes.map((s) => s.scopeId)],
  );
  return rows;
}

/** A finished job's result on its build: the new state (when there is one) and the autostop deadline. */
export async function updateWorkspaceBuildAfterJob(
  db: Queryable,
  p: { buildId: string; now: Date; state?: Buffer; deadline?: Date | null },
): Promise<void> {
  await db.query(`UPDATE workspace_builds SET ${buildAfterJobSet('$2', '$3', '$4', '$5', '$6')} WHERE id = $1`, [
    p.buildId, p.now, p.state !== undefined, p.state ?? null, p.deadline !== undefined, p.deadline ?? null,
  ]);
}

/** `SET` of a build a job ended for: the new state when `hasState`, the deadline when `hasDeadline`. */
export const buildAfterJobSet = (now: string, hasState: string, state: string, hasDeadline: string, deadline: string) => `updated_at = ${now},
  provisioner_state = CASE WHEN ${hasState}::boolean THEN ${state}::bytea ELSE provisioner_state END,
  deadline = CASE WHEN ${hasDeadline}::boolean THEN ${deadline}::timestamptz ELSE deadline END`;

/** The state of the workspace's newest build before `buildNumber` that has one (the reaper keeps state from being lost). */
export async function getPreviousBuildState(db: Queryable, workspaceId: string, buildNumber: number): Promise<Buffer | undefined> {
  const { rows } = await db.query<{ provisioner_state: Buffer }>(
    `SELECT provisioner_state FROM workspace_builds
     WHERE workspace_id = $1 AND build_number < $2 AND provisioner_state IS NOT NULL AND length(provisioner_state) > 0
     ORDER BY build_number DESC LIMIT 1`,
    [workspaceId, buildNumber],
  );
  return rows[0]?.provisioner_state;
}
