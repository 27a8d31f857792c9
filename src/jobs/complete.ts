import { inTx, type Queryable } from '../db/pool.js';
import {
  getProvisionerJobForUpdate,
  updateProvisionerJobCompleted,
  type ProvisionerJobRow,
  type TemplateVersionImportJobInput,
  type WorkspaceBuildJobInput,
} from '../db/queries/provisionerJobs.js';
import { getBuildJobTarget, markWorkspaceDeleted, updateWorkspaceBuildAfterJob, type BuildJobTarget } from '../db/queries/provisionerJobTargets.js';
import type { CompleteJobRequest, FailJobRequest } from '../sdk/types/provisionerd.js';

import { notifyJobEndedAtCommit, publishJobEnded, type JobsContext } from './context.js';
import { checkImportDeclarations, DeclarationError, storeImportDeclarations, type ImportDeclarations } from './importDeclarations.js';
import { assertOwnedAndOpen } from './ownership.js';
import { insertResources, InvalidResourcesError, validateResources } from './resources.js';

const NO_ERROR_MESSAGE = 'The provisioner failed without an error message.';

/**
 * A daemon reports success (reference §7.10). In ONE transaction, with the job row locked first: the job is completed,
 * the build gets the new state (replaced wholesale) and, for `start`, its autostop deadline; the reported resources,
 * metadata, agents and apps are inserted; a delete build soft-deletes the workspace. An import stores its resource
 * preview on the import job. A report that cannot be stored fails the job instead, with nothing half-written.
 */
export async function completeJob(ctx: JobsContext, workerId: string, req: CompleteJobRequest): Promise<void> {
  const stateOnFailure = req.workspace_build ? { state: req.workspace_build.state } : undefined;
  try {
    validateResources(req.workspace_build?.resources ?? []);
    validateResources(req.template_import?.start_resources ?? []);
    validateResources(req.template_import?.stop_resources ?? []);
    validateResources(req.template_dry_run?.resources ?? []);
  } catch (e) {
    if (!(e instanceof InvalidResourcesError)) throw e;
    return failJob(ctx, workerId, { job_id: req.job_id, error: `The provisioner reported invalid resources: ${e.message}`, workspace_build: stateOnFailure });
  }
  let declarations: ImportDeclarations | undefined;
  try {
    if (req.template_import) declarations = checkImportDeclarations(req.template_import);
  } catch (e) {
    if (!(e instanceof DeclarationError)) throw e;
    return failJob(ctx, workerId, { job_id: req.job_id, error: `The template declares invalid parameters: ${e.message}` });
  }
  try {
    await inTx(ctx.pool, async (tx) => notifyJobEndedAtCommit(tx, req.job_id, await storeCompletion(tx)));
  } catch (e) {
    if (e instanceof DeclarationError) return failJob(ctx, workerId, { job_id: req.job_id, error: e.message });
    // The database refused a row (a constraint the validation did not foresee): fail the job; nothing was written.
    if (!isDataError(e)) throw e;
    return failJob(ctx, workerId, { job_id: req.job_id, error: `Could not store the build's resources: ${(e as Error).message}`, workspace_build: stateOnFailure });
  }

  async function storeCompletion(tx: Queryable): Promise<string | undefined> {
    const job = await getProvisionerJobForUpdate(tx, req.job_id);
    assertOwnedAndOpen(job, workerId, req.job_id);
    const now = ctx.clock.now();
    await updateProvisionerJobCompleted(tx, { id: job.id, now, error: null });
    if (job.type === 'workspace_build') {
      const target = await buildTarget(tx, job);
      // A dry run applied nothing: no deadline, and a planned delete deletes nothing.
      const dryRun = (job.input as unknown as WorkspaceBuildJobInput).dry_run === true;
      await updateWorkspaceBuildAfterJob(tx, {
        buildId: target.build_id,
        now,
        state: Buffer.from(req.workspace_build?.state ?? new Uint8Array(0)),
        deadline: target.transition === 'start' && !dryRun ? deadlineOf(target, now) : undefined,
      });
      await insertResources(tx, { jobId: job.id, transition: target.transition, now, resources: req.workspace_build?.resources ?? [] });
      if (target.transition === 'delete' && !dryRun) await markWorkspaceDeleted(tx, target.workspace_id, now);
      return target.workspace_id;
    }
    if (job.type === 'template_version_dry_run') {
      await insertResources(tx, { jobId: job.id, transition: 'start', now, resources: req.template_dry_run?.resources ?? [] });
      return undefined;
    }
    // An import's resources are the template's preview: what a start (and a stop) of a workspace would make.
    await insertResources(tx, { jobId: job.id, transition: 'start', now, resources: req.template_import?.start_resources ?? [] });
    await insertResources(tx, { jobId: job.id, transition: 'stop', now, resources: req.template_import?.stop_resources ?? [] });
    const versionId = (job.input as unknown as TemplateVersionImportJobInput).template_version_id;
    if (declarations && versionId) await storeImportDeclarations(tx, versionId, declarations);
    return undefined;
  }
}

/**
 * A daemon reports failure (reference §7.9): the job is completed with a non-empty error, and a state the provisioner
 * reported replaces the build's (a partial apply keeps track of what it made); without one the build keeps its state.
 */
export async function failJob(ctx: JobsContext, workerId: string, req: FailJobRequest): Promise<void> {
  await inTx(ctx.pool, async (tx) => {
    const job = await getProvisionerJobForUpdate(tx, req.job_id);
    assertOwnedAndOpen(job, workerId, req.job_id);
    await notifyJobEndedAtCommit(tx, req.job_id, await terminateJob(tx, job, ctx.clock.now(), req.error, req.workspace_build?.state));
  });
}

/**
 * Fails an open job on the server's own authority (a job that cannot be handed out, found at acquire time). Does
 * nothing when the job already finished.
 */
export async function abortJob(ctx: JobsContext, jobId: string, error: string): Promise<void> {
  const out = await inTx(ctx.pool, async (tx) => {
    const job = await getProvisionerJobForUpdate(tx, jobId);
    if (!job || job.completed_at) return { done: false as const };
    return { done: true as const, workspaceId: await terminateJob(tx, job, ctx.clock.now(), error) };
  });
  if (out.done) await publishJobEnded(ctx, jobId, out.workspaceId);
}

/**
 * Completes a locked job with an error (forced non-empty: an empty one would read as success) and, for a build, stores
 * a reported state. Returns the build's workspace, for the notification the caller sends after committing.
 */
export async function terminateJob(tx: Queryable, job: ProvisionerJobRow, now: Date, error: string, state?: Uint8Array): Promise<string | undefined> {
  await updateProvisionerJobCompleted(tx, { id: job.id, now, error: error.trim() ? error : NO_ERROR_MESSAGE });
  if (job.type !== 'workspace_build') return undefined;
  const target = await getBuildJobTarget(tx, (job.input as unknown as WorkspaceBuildJobInput).workspace_build_id);
  if (!target) return undefined;
  await updateWorkspaceBuildAfterJob(tx, { buildId: target.build_id, now, state: state ? Buffer.from(state) : undefined });
  return target.workspace_id;
}

async function buildTarget(tx: Queryable, job: ProvisionerJobRow): Promise<BuildJobTarget> {
  const buildId = (job.input as unknown as WorkspaceBuildJobInput).workspace_build_id;
  const target = await getBuildJobTarget(tx, buildId);
  if (!target) throw new Error(`job ${job.id}: workspace build ${buildId} not found`);
  return target;
}

/** Autostop (deviation 11): start builds only; the workspace's TTL, else the template's default; none when 0. */
export function deadlineOf(t: Pick<BuildJobTarget, 'workspace_ttl_ms' | 'template_default_ttl_ms'>, now: Date): Date | null {
  const ttl = Number(t.workspace_ttl_ms ?? t.template_default_ttl_ms ?? 0);
  return ttl > 0 ? new Date(now.getTime() + ttl) : null;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint): the data is at fault, not the database. */
function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
