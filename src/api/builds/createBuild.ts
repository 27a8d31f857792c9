import { randomUUID } from 'node:crypto';

import type { Queryable } from '../../db/pool.js';
import type { ProvisionerJobRow } from '../../db/queries/provisionerJobs.js';
import { getTemplateVersionForBuild, type TemplateRow, type TemplateVersionRow } from '../../db/queries/templates.js';
import { getLatestWorkspaceBuildWithJob, insertWorkspaceBuild, type WorkspaceBuildRow } from '../../db/queries/workspaceBuilds.js';
import { upsertWorkspaceParameterValues, type WorkspaceRow } from '../../db/queries/workspaces.js';
import { insertWorkspaceBuildParameters } from '../../db/queries/parameters.js';
import { workspaceChannel } from '../../jobs/channels.js';
import { enqueueJob, mutateTags } from '../../jobs/enqueue.js';
import type { CreateParameterRequest, WorkspaceTransition } from '../../sdk/types/workspaceBuilds.js';
import type { ServerContext } from '../context.js';
import { isActiveJobStatus, jobStatus } from '../convert/provisionerJobs.js';
import { ApiError, errors } from '../http/errors.js';

import { resolveBuildParameters } from './parameters.js';

/**
 * Loads a build's template version with its template and import job in one statement. An unknown version is the
 * client's mistake (400), as in Coder; the template and the import job are checked by the caller where it always did.
 */
export async function loadBuildSource(db: Queryable, versionId: string): Promise<{ version: TemplateVersionRow; template?: TemplateRow; importJob?: ProvisionerJobRow }> {
  const found = await getTemplateVersionForBuild(db, versionId);
  if (!found) {
    throw errors.badRequest('Template version not found.', undefined, [{ field: 'template_version_id', detail: 'template version not found' }]);
  }
  return found;
}

/**
 * Refuses versions whose import has not succeeded (reference §5.7.1 step 10, with the post-Nov-22 statuses); returns
 * the import job, whose tags, provisioner and file the build takes.
 */
export function checkImportSucceeded(v: TemplateVersionRow, job: ProvisionerJobRow | undefined): ProvisionerJobRow {
  if (!job) throw errors.internal('Internal error fetching provisioner job.');
  const status = jobStatus(job);
  if (status === 'pending' || status === 'running' || status === 'canceling') {
    throw new ApiError(406, `The provided template version is ${status}. Wait for it to complete importing!`);
  }
  if (status === 'failed') {
    throw errors.badRequest(`The provided template version "${v.name}" has failed to import: "${job.error ?? ''}". You cannot build workspaces with it!`);
  }
  if (status === 'canceled') {
    throw errors.badRequest('The provided template version was canceled during import. You cannot builds workspaces with it!');
  }
  return job;
}

export interface InsertBuildParams {
  workspace: WorkspaceRow;
  template: TemplateRow;
  version: TemplateVersionRow;
  /** The version's import job: the build runs the same provisioner on the same file, with its tags. */
  importJob: ProvisionerJobRow;
  transition: WorkspaceTransition;
  initiatorId: string;
  /** The state the build starts from: the previous build's unless the caller replaced it. */
  state: Buffer | null;
  orphan: boolean;
  /** `dry_run` of the request: the provisioner plans without applying; the build keeps the state it starts from. */
  dryRun?: boolean;
  parameterValues: CreateParameterRequest[];
  /** Rich parameter values of the request; resolved against the version's parameters and the previous build. */
  richParameterValues?: { name: string; value: string }[] | null;
  /** The workspace's latest build before this one: its rich values carry over. */
  previousBuildId?: string;
  buildNumber: number;
}

/**
 * Writes a build and its job inside the caller's transaction: legacy parameters first, then the job (which wakes the
 * daemons on commit), then the build row whose unique (workspace, number) settles any race, and which notifies the
 * workspace's watchers on commit.
 */
export async function insertBuild(ctx: ServerContext, tx: Queryable, p: InsertBuildParams): Promise<WorkspaceBuildRow> {
  const now = ctx.clock.now();
  await upsertWorkspaceParameterValues(
    tx,
    p.workspace.id,
    now,
    p.parameterValues.map((pv) => ({ id: randomUUID(), name: pv.name, sourceScheme: pv.source_scheme, sourceValue: pv.source_value, destinationScheme: pv.destination_scheme })),
  );
  // Validation comes first: a refused value must leave nothing written (the caller's transaction rolls back anyway).
  const richValues = await resolveBuildParameters(tx, {
    versionId: p.version.id,
    previousBuildId: p.previousBuildId,
    given: p.richParameterValues,
    transition: p.transition,
  });
  const buildId = randomUUID();
  const templateFileJob = p.importJob;
  const job = await enqueueJob(tx, {
    id: randomUUID(),
    now,
    organizationId: p.template.organization_id,
    initiatorId: p.initiatorId,
    provisioner: templateFileJob.provisioner,
    type: 'workspace_build',
    input: { workspace_build_id: buildId, dry_run: p.dryRun === true, ...(p.orphan ? { orphan: true } : {}) },
    fileId: templateFileJob.file_id,
    tags: mutateTags(p.workspace.owner_id, p.importJob.tags),
  });
  const build = await insertWorkspaceBuild(tx, {
    id: buildId,
    now,
    workspaceId: p.workspace.id,
    templateVersionId: p.version.id,
    buildNumber: p.buildNumber,
    transition: p.transition,
    initiatorId: p.initiatorId,
    state: p.state,
    jobId: job.id,
    reason: 'initiator',
    // Watchers of the workspace learn of the build when it commits (no statement of its own).
    notifyChannel: workspaceChannel(p.workspace.id),
  });
  await insertWorkspaceBuildParameters(tx, build.id, richValues);
  return build;
}

/** 409 when the latest build is still pending, running or canceling; otherwise the next build number. */
export async function nextBuildNumber(db: Queryable, workspaceId: string): Promise<{ number: number; previous?: WorkspaceBuildRow }> {
  const latest = await getLatestWorkspaceBuildWithJob(db, workspaceId);
  if (!latest) return { number: 1 };
  if (latest.job && isActiveJobStatus(jobStatus(latest.job))) throw errors.conflict('A workspace build is already active.');
  return { number: latest.build.build_number + 1, previous: latest.build };
}


