import { randomUUID } from 'node:crypto';

import type { Queryable } from '../../db/pool.js';
import type { ProvisionerJobRow } from '../../db/queries/provisionerJobs.js';
import { getTemplateVersionForBuild, type TemplateRow, type TemplateVersionRow } from '../../db/queries/templates.js';
import { insertBuildWithJob, type BuildSource } from '../../db/queries/buildCreation.js';
import type { NameValue, TemplateVersionParameterRow } from '../../db/queries/parameters.js';
import type { BuildView } from '../../db/queries/views.js';
import { upsertWorkspaceParameterValues, type WorkspaceRow } from '../../db/queries/workspaces.js';
import { JOB_POSTED_CHANNEL, workspaceChannel } from '../../jobs/channels.js';
import { publish } from '../../jobs/context.js';
import { mutateTags } from '../../jobs/enqueue.js';
import type { CreateParameterRequest, WorkspaceTransition } from '../../sdk/types/workspaceBuilds.js';
import type { ServerContext } from '../context.js';
import { isActiveJobStatus, jobStatus } from '../convert/provisionerJobs.js';
import { ApiError, errors } from '../http/errors.js';

import { resolveBuildParameters } from './parameters.js';
import { daemonsSeenSince } from './render.js';

/**
 * Loads a build's template version with its template and import job in one statement. An unknown version is the
 * client's mistake (400), as in Coder; the template and the import job are checked by the caller where it always did.
 */
export async function loadBuildSource(
  db: Queryable,
  versionId: string,
): Promise<{ version: TemplateVersionRow; template?: TemplateRow; importJob?: ProvisionerJobRow; parameters: TemplateVersionParameterRow[] }> {
  const found = await getTemplateVersionForBuild(db, versionId);
  if (!found) throw versionNotFound();
  return found;
}

/** An unknown template version for a build: the client's mistake (400), as in Coder. */
export function versionNotFound(): ApiError {
  return errors.badRequest('Template version not found.', undefined, [{ field: 'template_version_id', detail: 'template version not found' }]);
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
  /** Rich parameter values of the request; resolved against the version's declarations and the previous build's. */
  richParameterValues?: { name: string; value: string }[] | null;
  /** The version's rich parameter declarations. */
  declaredParameters: readonly TemplateVersionParameterRow[];
  /** The rich values of the workspace's latest build before this one: they carry over. */
  previousParameterValues: readonly NameValue[];
  buildNumber: number;
}

/** Whether `insertBuild` writes with more than one statement (legacy parameter values), so needs a transaction. */
export function insertBuildNeedsTx(p: Pick<InsertBuildParams, 'parameterValues'>): boolean {
  return p.parameterValues.length > 0;
}

/**
 * Writes a build and its job: the rich values are resolved first (a refused value writes nothing), then legacy
 * parameter values if any (their own statement: call inside a transaction then, `insertBuildNeedsTx`), then ONE
 * statement with the job, the build row whose unique (workspace, number) settles any race, and the build's rich
 * values. Returns the new build's view, read by that same statement. Once it has committed, the caller announces it
 * (`announceBuild`).
 */
export async function insertBuild(ctx: ServerContext, db: Queryable, p: InsertBuildParams): Promise<BuildView> {
  const now = ctx.clock.now();
  const richValues = resolveBuildParameters({
    declared: p.declaredParameters,
    previousValues: p.previousParameterValues,
    given: p.richParameterValues,
    transition: p.transition,
  });
  await upsertWorkspaceParameterValues(
    db,
    p.workspace.id,
    now,
    p.parameterValues.map((pv) => ({ id: randomUUID(), name: pv.name, sourceScheme: pv.source_scheme, sourceValue: pv.source_value, destinationScheme: pv.destination_scheme })),
  );
  const buildId = randomUUID();
  const templateFileJob = p.importJob;
  return insertBuildWithJob(
    db,
    {
      now,
      organizationId: p.template.organization_id,
      initiatorId: p.initiatorId,
      provisioner: templateFileJob.provisioner,
      type: 'workspace_build',
      input: { workspace_build_id: buildId, dry_run: p.dryRun === true, ...(p.orphan ? { orphan: true } : {}) },
      fileId: templateFileJob.file_id,
      tags: mutateTags(p.workspace.owner_id, p.importJob.tags),
    },
    {
      id: buildId,
      workspaceId: p.workspace.id,
      templateVersionId: p.version.id,
      buildNumber: p.buildNumber,
      transition: p.transition,
      initiatorId: p.initiatorId,
      state: p.state,
      reason: 'initiator',
    },
    richValues,
    daemonsSeenSince(ctx),
  );
}

/**
 * Tells the daemons (on every replica) that a job was posted, and the workspace's watchers that it has a new build.
 * Called once the build has committed, so whoever is told can read it. Never throws: the build is stored, and daemons
 * also poll, watchers also re-read when they reconnect.
 */
export async function announceBuild(ctx: ServerContext, view: Pick<BuildView, 'job' | 'workspace'>): Promise<void> {
  await Promise.all([publish(ctx, JOB_POSTED_CHANNEL, view.job.id), publish(ctx, workspaceChannel(view.workspace.id))]);
}

/** 409 when the latest build is still pending, running or canceling; otherwise the next build number. */
export function nextBuildNumber(latest: BuildSource['latest']): number {
  if (!latest) return 1;
  if (latest.job && isActiveJobStatus(jobStatus(latest.job))) throw errors.conflict('A workspace build is already active.');
  return latest.build.build_number + 1;
}
