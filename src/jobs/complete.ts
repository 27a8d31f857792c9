import { inTx, type Queryable } from '../db/pool.js';
import { completeBuildJob, endJob, getJobForUpdateWithTarget } from '../db/queries/jobEnd.js';
import type { AcquiredJobRow, ProvisionerJobRow, TemplateVersionImportJobInput, WorkspaceBuildJobInput } from '../db/queries/provisionerJobs.js';
import type { BuildJobTarget } from '../db/queries/provisionerJobTargets.js';
import type { CompleteJobRequest, FailJobRequest } from '../sdk/types/provisionerd.js';

import { tookJob, type AcquiringDaemon } from './acquire.js';
import { jobEndedNotes, publishJobEnded, type JobsContext } from './context.js';
import { checkImportDeclarations, DeclarationError, storeImportDeclarations, type ImportDeclarations } from './importDeclarations.js';
import { assertOwnedAndOpen } from './ownership.js';
import { insertResources, InvalidResourcesError, validateResources } from './resources.js';
import { completeBuildWithLines, updateJob } from './update.js';

const NO_ERROR_MESSAGE = 'The provisioner failed without an error message.';

/**
 * A daemon reports success (reference §7.10). In ONE transaction, with the job row locked first: the job is completed,
 * the build gets the new state (replaced wholesale) and, for `start`, its autostop deadline; the reported resources,
 * metadata, agents and apps are inserted; a delete build soft-deletes the workspace. An import stores its resource
 * preview on the import job. A report that cannot be stored fails the job instead, with nothing half-written. A
 * build's success takes the row lock with its first write (`storeBuildCompletion`): without resources it is one
 * statement in all.
 *
 * `next`: the daemon (`workerId`) is about to ask for its next job; a build's success then takes one for it in the
 * same statement, committed with the success, and returns it (already announced, as `acquireJob` does). Undefined when
 * none was taken: no job was waiting, or the completion went another way; the daemon then asks as usual.
 */
export async function completeJob(ctx: JobsContext, workerId: string, req: CompleteJobRequest, next?: AcquiringDaemon): Promise<AcquiredJobRow | undefined> {
  const taking = next && next.id === workerId ? { provisioners: next.provisioners, tags: next.tags, organizationId: next.organizationId } : undefined;
  if (req.logs?.length) {
    // The daemon's last lines came with the completion: a build's success without resources stores both in one
    // statement when it can; otherwise the lines go first, as a batch of their own (numbered, so a completion sent
    // again does not store them twice), and the job completes as usual.
    const build = req.workspace_build;
    const done = build && (build.resources ?? []).length === 0
      ? await completeBuildWithLines(ctx, workerId, req.job_id, req.logs, Buffer.from(build.state ?? new Uint8Array(0)), taking, (job) => tookJob(ctx, job))
      : undefined;
    if (done) return done.next;
    await updateJob(ctx, workerId, { job_id: req.job_id, logs: req.logs });
  }
  const stateOnFailure = req.workspace_build ? { state: req.workspace_build.state } : undefined;
  try {
    validateResources(req.workspace_build?.resources ?? []);
    validateResources(req.template_import?.start_resources ?? []);
    validateResources(req.template_import?.stop_resources ?? []);
    validateResources(req.template_dry_run?.resources ?? []);
  } catch (e) {
    if (!(e instanceof InvalidResourcesError)) throw e;
    return void (await failJob(ctx, workerId, { job_id: req.job_id, error: `The provisioner reported invalid resources: ${e.message}`, workspace_build: stateOnFailure }));
  }
  let declarations: ImportDeclarations | undefined;
  try {
    if (req.template_import) declarations = checkImportDeclarations(req.template_import);
  } catch (e) {
    if (!(e instanceof DeclarationError)) throw e;
    return void (await failJob(ctx, workerId, { job_id: req.job_id, error: `The template declares invalid parameters: ${e.message}` }));
  }
  /** The workspace whose build succeeded (set by `writeBuildSuccess`), announced once the write has committed. */
  let builtWorkspaceId: string | undefined;
  /** The job the success took for the daemon (`next`), announced with it. */
  let nextJob: AcquiredJobRow | undefined;
  try {
    if (!(req.workspace_build && (await storeBuildCompletion(req.workspace_build)))) await inTx(ctx.pool, storeCompletion);
  } catch (e) {
    if (e instanceof DeclarationError) return void (await failJob(ctx, workerId, { job_id: req.job_id, error: e.message }));
    // The database refused a row (a constraint the validation did not foresee): fail the job; nothing was written.
    if (!isDataError(e)) throw e;
    const error = `Could not store the build's resources: ${(e as Error).message}`;
    return void (await failJob(ctx, workerId, { job_id: req.job_id, error, workspace_build: stateOnFailure }));
  }
  // A job taken with the success has committed with it: remembered and announced as an acquisition is, in the same
  // flush as the end. Other jobs' ends were announced by their own statement (`endJob`), at commit.
  if (nextJob) tookJob(ctx, nextJob);
  if (builtWorkspaceId) await publishJobEnded(ctx, req.job_id, builtWorkspaceId);
  return nextJob;

  /**
   * A build's success: ONE statement (`completeBuildJob`), in a transaction with the resources' inserts when there are
   * any. False when that statement matched nothing: the general path below then says why under the row lock.
   */
  async function storeBuildCompletion(build: NonNullable<CompleteJobRequest['workspace_build']>): Promise<boolean> {
    const write = (db: Queryable) => writeBuildSuccess(db, build);
    return (build.resources ?? []).length === 0 ? write(ctx.pool) : inTx(ctx.pool, write);
  }

  /** The build's success and its resources, written by the caller's connection; false when the job did not match. */
  async function writeBuildSuccess(db: Queryable, build: NonNullable<CompleteJobRequest['workspace_build']>): Promise<boolean> {
    const now = ctx.clock.now();
    const done = await completeBuildJob(db, { jobId: req.job_id, workerId, now, state: Buffer.from(build.state ?? new Uint8Array(0)), next: taking });
    if (!done) return false;
    await insertResources(db, { jobId: req.job_id, transition: done.transition, now, resources: build.resources ?? [] });
    builtWorkspaceId = done.workspace_id;
    nextJob = done.next;
    return true;
  }

  async function storeCompletion(tx: Queryable): Promise<void> {
    const found = await getJobForUpdateWithTarget(tx, req.job_id);
    assertOwnedAndOpen(found?.job, workerId, req.job_id);
    const { job } = found;
    if (job.type === 'workspace_build') {
      // Locked, this worker's and open: the one statement of a build's success matches unless the build is gone.
      if (!(await writeBuildSuccess(tx, req.workspace_build ?? { state: new Uint8Array(0), resources: [] }))) {
        throw new Error(`job ${job.id}: workspace build ${(job.input as unknown as WorkspaceBuildJobInput).workspace_build_id} not found`);
      }
      return;
    }
    const now = ctx.clock.now();
    await endJob(tx, { jobId: job.id, now, error: null, notes: jobEndedNotes(job.id) });
    if (job.type === 'template_version_dry_run') {
      await insertResources(tx, { jobId: job.id, transition: 'start', now, resources: req.template_dry_run?.resources ?? [] });
      return;
    }
    // An import's resources are the template's preview: what a start (and a stop) of a workspace would make.
    await insertResources(tx, { jobId: job.id, transition: 'start', now, resources: req.template_import?.start_resources ?? [] });
    await insertResources(tx, { jobId: job.id, transition: 'stop', now, resources: req.template_import?.stop_resources ?? [] });
    const versionId = (job.input as unknown as TemplateVersionImportJobInput).template_version_id;
    if (declarations && versionId) await storeImportDeclarations(tx, versionId, declarations);
  }
}

/**
 * A daemon reports failure (reference §7.9): the job is completed with a non-empty error, and a state the provisioner
 * reported replaces the build's (a partial apply keeps track of what it made); without one the build keeps its state.
 */
export async function failJob(ctx: JobsContext, workerId: string, req: FailJobRequest): Promise<void> {
  await inTx(ctx.pool, async (tx) => {
    const found = await getJobForUpdateWithTarget(tx, req.job_id);
    assertOwnedAndOpen(found?.job, workerId, req.job_id);
    await terminateJob(tx, found, ctx.clock.now(), req.error, req.workspace_build?.state);
  });
}

/**
 * Fails an open job on the server's own authority (a job that cannot be handed out, found at acquire time). Does
 * nothing when the job already finished.
 */
export async function abortJob(ctx: JobsContext, jobId: string, error: string): Promise<void> {
  await inTx(ctx.pool, async (tx) => {
    const found = await getJobForUpdateWithTarget(tx, jobId);
    if (!found || found.job.completed_at) return;
    await terminateJob(tx, found, ctx.clock.now(), error);
  });
}

/**
 * Completes a locked job with an error (forced non-empty: an empty one would read as success) and, for a build, stores
 * a reported state; the job's end is announced when the caller's transaction commits, after `notesFirst`.
 */
export async function terminateJob(
  tx: Queryable,
  found: { job: ProvisionerJobRow; target?: BuildJobTarget },
  now: Date,
  error: string,
  state?: Uint8Array,
  notesFirst: { channel: string; payload: string }[] = [],
): Promise<void> {
  const { job, target } = found;
  await endJob(tx, {
    jobId: job.id,
    now,
    error: error.trim() ? error : NO_ERROR_MESSAGE,
    build: target ? { id: target.build_id, state: state ? Buffer.from(state) : undefined } : undefined,
    notes: [...notesFirst, ...jobEndedNotes(job.id, target?.workspace_id)],
  });
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint): the data is at fault, not the database. */
function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
