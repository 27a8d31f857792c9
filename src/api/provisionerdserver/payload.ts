import { getTemplateVersionUserVariableValues } from '../../db/queries/parameters.js';
import type { AcquiredJobRow, ProvisionerJobRow, TemplateVersionDryRunJobInput, TemplateVersionImportJobInput, WorkspaceBuildJobInput } from '../../db/queries/provisionerJobs.js';
import { getBuildJobPayload, getImportJobTarget, getParameterValuesByScopes, type ParameterValueRow } from '../../db/queries/provisionerJobTargets.js';
import { getUserByID } from '../../db/queries/users.js';
import type { AcquiredJob, ParameterValue } from '../../sdk/types/provisionerd.js';
import type { ServerContext } from '../context.js';

import { fileBytes } from './fileBytes.js';

/** The job cannot be handed out (its build, file or user is gone, a parameter is unusable): it is failed at once. */
export class InvalidJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJobError';
  }
}

/** Everything a daemon needs to run an acquired job (reference §7.4), read once at acquire time. */
export async function acquiredJobPayload(ctx: ServerContext, job: AcquiredJobRow): Promise<AcquiredJob> {
  if (job.type === 'workspace_build') return buildJobPayload(ctx, job);
  const [file, initiator] = await Promise.all([fileBytes(ctx, job.file_id), getUserByID(ctx.pool, job.initiator_id)]);
  if (!file) throw new InvalidJobError(`get file: file ${job.file_id} not found`);
  if (!initiator) throw new InvalidJobError(`get initiator: user ${job.initiator_id} not found`);
  const base = payloadBase(job, file, initiator.username);
  const accessUrl = ctx.options.accessUrl;

  if (job.type === 'template_version_import') {
    const versionId = (job.input as unknown as TemplateVersionImportJobInput).template_version_id;
    const v = await getImportJobTarget(ctx.pool, versionId);
    if (!v) throw new InvalidJobError(`get template version: version ${versionId} not found`);
    const scopes: { scope: ParameterValueRow['scope']; scopeId: string }[] = [{ scope: 'import_job', scopeId: job.id }];
    if (v.template_id) scopes.push({ scope: 'template', scopeId: v.template_id });
    return {
      ...base,
      type: 'template_version_import',
      template_import: {
        template_version_id: v.template_version_id,
        template_version_name: v.template_version_name,
        parameter_values: await resolveParameters(ctx, scopes),
        // Which variables are sensitive is known only after the import: until then every value is treated as one.
        variable_values: (await getTemplateVersionUserVariableValues(ctx.pool, v.template_version_id)).map((x) => ({ ...x, sensitive: true })),
        metadata: { access_url: accessUrl, template_name: v.template_name ?? '', template_version: v.template_version_name, template_id: v.template_id ?? undefined },
      },
    };
  }

  if (job.type === 'template_version_dry_run') {
    const input = job.input as unknown as TemplateVersionDryRunJobInput;
    const v = await getImportJobTarget(ctx.pool, input.template_version_id);
    if (!v) throw new InvalidJobError(`get template version: version ${input.template_version_id} not found`);
    const scopes: { scope: ParameterValueRow['scope']; scopeId: string }[] = [{ scope: 'import_job', scopeId: v.import_job_id }];
    if (v.template_id) scopes.push({ scope: 'template', scopeId: v.template_id });
    // The request's values override the version's and the template's defaults.
    const given = new Map((await resolveParameters(ctx, scopes)).map((p) => [p.name, p]));
    for (const p of input.parameter_values ?? []) given.set(p.name, p);
    return {
      ...base,
      type: 'template_version_dry_run',
      template_dry_run: {
        template_version_id: v.template_version_id,
        parameter_values: [...given.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        metadata: {
          access_url: accessUrl,
          workspace_transition: 'start',
          workspace_name: input.workspace_name,
          workspace_owner: initiator.username,
          workspace_owner_email: initiator.email,
          workspace_id: '',
          workspace_owner_id: initiator.id,
          template_name: v.template_name ?? '',
          template_version: v.template_version_name,
          template_id: v.template_id ?? undefined,
        },
      },
    };
  }

  throw new InvalidJobError(`unsupported job type "${job.type}"`);
}

function payloadBase(job: ProvisionerJobRow, file: Buffer, userName: string) {
  return {
    job_id: job.id,
    created_at: job.created_at.getTime(),
    provisioner: job.provisioner,
    user_name: userName,
    file_id: job.file_id,
    template_source_archive: new Uint8Array(file.buffer, file.byteOffset, file.byteLength),
  };
}

/**
 * A workspace build's payload: the archive (from memory, usually) and the rest, read by the acquisition's own statement
 * (`acquireProvisionerJob`), else by one of its own (`getBuildJobPayload`).
 */
async function buildJobPayload(ctx: ServerContext, job: AcquiredJobRow): Promise<AcquiredJob> {
  const buildId = (job.input as unknown as WorkspaceBuildJobInput).workspace_build_id;
  const [file, t] = await Promise.all([fileBytes(ctx, job.file_id), job.buildPayload ?? getBuildJobPayload(ctx.pool, buildId, job.initiator_id)]);
  if (!file) throw new InvalidJobError(`get file: file ${job.file_id} not found`);
  if (!t) {
    // The same order of checks as the other job types, so the message names the first thing missing.
    if (!(await getUserByID(ctx.pool, job.initiator_id))) throw new InvalidJobError(`get initiator: user ${job.initiator_id} not found`);
    throw new InvalidJobError(`get workspace build: build ${buildId} not found`);
  }
  if (t.initiator_username === null) throw new InvalidJobError(`get initiator: user ${job.initiator_id} not found`);
  const base = payloadBase(job, file, t.initiator_username);
  const accessUrl = ctx.options.accessUrl;
  const parameters = resolveParameterRows(t.parameter_values);
  const richValues = t.rich_parameter_values;
  const variables = t.variables;
  const state = t.provisioner_state ?? Buffer.alloc(0);
  return {
    ...base,
    type: 'workspace_build',
    workspace_build: {
      workspace_build_id: t.build_id,
      workspace_name: t.workspace_name,
      transition: t.transition,
      state: new Uint8Array(state.buffer, state.byteOffset, state.byteLength),
      parameter_values: parameters,
      rich_parameter_values: richValues,
      // A variable without a value takes its default, as Terraform would.
      variable_values: variables.map((v) => ({ name: v.name, value: v.value !== '' ? v.value : v.default_value, sensitive: v.sensitive })),
      orphan: (job.input as unknown as WorkspaceBuildJobInput).orphan === true,
      dry_run: (job.input as unknown as WorkspaceBuildJobInput).dry_run === true,
      metadata: {
        access_url: accessUrl,
        workspace_transition: t.transition,
        workspace_name: t.workspace_name,
        workspace_owner: t.owner_username,
        workspace_owner_email: t.owner_email,
        workspace_id: t.workspace_id,
        workspace_owner_id: t.owner_id,
        template_name: t.template_name,
        template_version: t.template_version_name,
        template_id: t.template_id,
        workspace_build_id: t.build_id,
      },
    },
  };
}

const PRECEDENCE: Record<ParameterValueRow['scope'], number> = { import_job: 0, template: 1, workspace: 2 };

/**
 * Legacy parameter values across scopes: the import job's defaults are overridden by template values, and those by
 * workspace values. A value that has no destination (scheme `none`) cannot be handed to a provisioner: the job fails.
 */
async function resolveParameters(ctx: ServerContext, scopes: { scope: ParameterValueRow['scope']; scopeId: string }[]): Promise<ParameterValue[]> {
  return resolveParameterRows(await getParameterValuesByScopes(ctx.pool, scopes));
}

function resolveParameterRows(rows: ParameterValueRow[]): ParameterValue[] {
  const byName = new Map<string, ParameterValueRow>();
  for (const r of rows) {
    const cur = byName.get(r.name);
    if (!cur || PRECEDENCE[r.scope] > PRECEDENCE[cur.scope]) byName.set(r.name, r);
  }
  const out: ParameterValue[] = [];
  for (const r of [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    // A value with source scheme `none` has no value at all (a schema without a default).
    if (r.source_scheme !== 'data') continue;
    if (r.destination_scheme !== 'environment_variable' && r.destination_scheme !== 'provisioner_variable') {
      throw new InvalidJobError(`parameter "${r.name}" has destination scheme "${r.destination_scheme}"; it cannot be passed to a provisioner`);
    }
    out.push({ name: r.name, value: r.source_value, destination_scheme: r.destination_scheme });
  }
  return out;
}
