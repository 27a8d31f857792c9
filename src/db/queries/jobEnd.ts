import { assertChannelName } from '../pubsub.js';
import type { Queryable } from '../pool.js';

import { BUILD_TARGET_COLUMNS, BUILD_TARGET_FROM, buildAfterJobSet, type BuildJobTarget } from './provisionerJobTargets.js';
import { insertLines, lineValues, type ExpectedLogBudget, type NewJobLog } from './provisionerJobLogs.js';
import { acquiredCte, acquireValues, NEXT_JOB_COLUMNS, NEXT_JOB_JOIN, nextJobFromColumns, type AcquiredJobRow, type AcquireJobParams, type JobLogUsage, type ProvisionerJobRow } from './provisionerJobs.js';
import { revive } from './views.js';

/**
 * Ending a job (success or failure) in two statements inside the caller's transaction: the job locked and read with
 * its build's target (`getJobForUpdateWithTarget`), then the job completed, its build updated, a deleted workspace
 * marked and the notifications queued, by ONE statement (`endJob`). Each reported resource adds its inserts. A build's
 * success, the common case, is one statement that does both (`completeBuildJob`).
 */

/** Locks the job row (cancel and completion race on it) and reads, for a build job, what its build is about. */
export async function getJobForUpdateWithTarget(db: Queryable, id: string): Promise<{ job: ProvisionerJobRow; target?: BuildJobTarget } | undefined> {
  const { rows } = await db.query<ProvisionerJobRow & { build_target: Record<string, unknown> | null }>({
    name: 'kiln_job_for_update_with_target',
    // The target's state is left out: ending a job never reads the state the build started from.
    text: `SELECT j.*, to_jsonb(tg) - 'provisioner_state' AS build_target FROM provisioner_jobs j
      LEFT JOIN LATERAL (SELECT ${BUILD_TARGET_COLUMNS} ${BUILD_TARGET_FROM}
        WHERE j.type = 'workspace_build' AND b.id = (j.input ->> 'workspace_build_id')::uuid) tg ON true
      WHERE j.id = $1 FOR UPDATE OF j`,
    values: [id],
  });
  const r = rows[0];
  if (!r) return undefined;
  const { build_target, ...job } = r;
  if (!build_target) return { job };
  const target = revive<BuildJobTarget>(build_target);
  target.provisioner_state = null;
  return { job, target };
}

export interface EndJobParams {
  jobId: string;
  now: Date;
  /** Null: success. */
  error: string | null;
  /** The job's build: its new state (undefined keeps the one it has) and its deadline (undefined keeps it). */
  build?: { id: string; state?: Buffer; deadline?: Date | null };
  /** A successful delete build's workspace, soft-deleted (its builds and logs stay readable). */
  deleteWorkspaceId?: string;
  /** Notifications sent when the transaction commits. */
  notes: { channel: string; payload: string }[];
}

/** `SET` of a job that ends now, with `error` (null: success). */
const JOB_END_SET = (now: string, error: string) => `completed_at = ${now}, updated_at = ${now}, error = ${error}, started_at = COALESCE(started_at, ${now})`;

/** Completes the job (a non-empty `error` fails it) and writes what that does to its build and workspace, in ONE statement. */
export async function endJob(db: Queryable, p: EndJobParams): Promise<void> {
  for (const n of p.notes) assertChannelName(n.channel);
  await db.query({
    name: 'kiln_end_job',
    text: `WITH job AS (
        UPDATE provisioner_jobs SET ${JOB_END_SET('$2', '$3')} WHERE id = $1 RETURNING id),
      build AS (UPDATE workspace_builds SET ${buildAfterJobSet('$2', '$5', '$6', '$7', '$8')} WHERE id = $4 RETURNING id),
      gone AS (UPDATE workspaces SET deleted = true, updated_at = $2 WHERE id = $9 RETURNING id),
      note AS (SELECT pg_notify(t.channel, t.payload) FROM unnest($10::text[], $11::text[]) WITH ORDINALITY AS t(channel, payload, ord) ORDER BY t.ord)
      SELECT (SELECT count(*) FROM job) AS jobs, (SELECT count(*) FROM note) AS notes`,
    values: [
      p.jobId, p.now, p.error,
      p.build?.id ?? null, p.build?.state !== undefined, p.build?.state ?? null, p.build?.deadline !== undefined, p.build?.deadline ?? null,
      p.deleteWorkspaceId ?? null,
      p.notes.map((n) => n.channel), p.notes.map((n) => n.payload),
    ],
  });
}

export interface CompleteBuildJobParams {
  jobId: string;
  workerId: string;
  now: Date;
  /** The build's new state, replacing the old one wholesale. */
  state: Buffer;
  /**
   * The same daemon takes its next job in the same statement (`acquiredCte`, only if the success matched): a built-in
   * daemon about to ask for one saves that round trip and that commit. `workerId` and `now` are the acquisition's too.
   */
  next?: Omit<AcquireJobParams, 'now' | 'workerId'>;
}

/** What a build's success returns: its transition, and the workspace to announce it on. */
export interface CompletedBuild {
  transition: 'start' | 'stop' | 'delete';
  workspace_id: string;
  /** The job taken for `next`, if one was asked for and there was one. */
  next?: AcquiredJobRow;
}

type NextColumns = { next_job: Record<string, unknown> | null; next_payload: Record<string, unknown> | null; next_payload_state: Buffer | null };

/** The acquisition's CTE (gated on the success having matched) for placeholders from `first` on; empty without `next`. */
function nextCte(p: CompleteBuildJobParams, first: number): string {
  if (!p.next) return '';
  const [now, worker, provisioners, tags, org] = [0, 1, 2, 3, 4].map((i) => `$${first + i}`) as [string, string, string, string, string];
  return `,\n      ${acquiredCte({ now, worker, provisioners, tags, org, gate: 'EXISTS (SELECT 1 FROM job)' })}`;
}

/** The statement's row as the caller gets it: the next job revived and its columns gone. */
function withNext<T extends CompletedBuild>(r: (Omit<T, 'next'> & NextColumns) | undefined): T | undefined {
  if (!r) return undefined;
  const { next_job, next_payload, next_payload_state, ...rest } = r;
  const next = nextJobFromColumns({ next_job, next_payload, next_payload_state });
  return (next ? { ...rest, next } : rest) as unknown as T;
}

/**
 * The job's completion, matched only if it is a build job, `worker`'s, started and not yet completed (`extraWhere`
 * adds conditions), then its build's state and deadline and a delete's workspace; the statement's main query sets
 * `kiln.writing_unfinished_build` (see `completeBuildJob`). `jobSet` adds columns to the job's SET.
 */
const buildSuccess = (p: { job: string; worker: string; now: string; state: string; jobSet?: string; from?: string; extraWhere?: string }) => `
      job AS (
        UPDATE provisioner_jobs j SET ${JOB_END_SET(p.now, 'NULL')}${p.jobSet ? `, ${p.jobSet}` : ''}
        FROM ${p.from ? `${p.from}, ` : ''}workspace_builds b JOIN workspaces w ON w.id = b.workspace_id JOIN templates t ON t.id = w.template_id
        WHERE j.id = ${p.job} AND j.type = 'workspace_build' AND j.worker_id = ${p.worker} AND j.started_at IS NOT NULL AND j.completed_at IS NULL
          AND b.id = (j.input ->> 'workspace_build_id')::uuid${p.extraWhere ? ` AND ${p.extraWhere}` : ''}
        RETURNING b.id AS build_id, b.transition, w.id AS workspace_id, coalesce(w.ttl_ms, t.default_ttl_ms, 0) AS ttl_ms,
          coalesce((j.input ->> 'dry_run')::boolean, false) AS dry_run),
      build AS (
        UPDATE workspace_builds SET ${buildAfterJobSet(p.now, 'true', p.state, "(job.transition = 'start' AND NOT job.dry_run)",
          `(CASE WHEN job.ttl_ms > 0 THEN ${p.now}::timestamptz + job.ttl_ms * interval '1 millisecond' END)`)}
        FROM job WHERE workspace_builds.id = job.build_id RETURNING workspace_builds.id),
      gone AS (
        UPDATE workspaces SET deleted = true, updated_at = ${p.now} FROM job
        WHERE workspaces.id = job.workspace_id AND job.transition = 'delete' AND NOT job.dry_run RETURNING workspaces.id)`;

/** Marks the statement's transaction as writing only a build that was unfinished (migration 000095). */
const UNFINISHED_BUILD_WRITE = `set_config('kiln.writing_unfinished_build', 'on', true) IS NOT NULL`;

/**
 * A build job's success in ONE statement, which is also its own check: the job is completed only if it is a build
 * job, this worker's, started and not yet completed (the UPDATE locks the row, as a cancel does). Its build takes the
 * new state and, for an applied `start`, the autostop deadline (the workspace's TTL, else the template's default; none
 * when 0; deviation 11); an applied `delete` soft-deletes the workspace. Undefined when nothing matched: the caller
 * finds out why under the row lock. The caller announces the end once it has committed.
 *
 * The statement sets `kiln.writing_unfinished_build` for its transaction: the build row it writes belonged to an
 * unfinished build, whose view no replica keeps, so migration 000095's trigger on workspace_builds sends no
 * `kiln_build_views` notification for it (a delete's workspace row still sends one, from its own trigger).
 */
export async function completeBuildJob(db: Queryable, p: CompleteBuildJobParams): Promise<CompletedBuild | undefined> {
  const { rows } = await db.query<Omit<CompletedBuild, 'next'> & NextColumns>({
    name: p.next ? 'kiln_complete_build_job_and_acquire' : 'kiln_complete_build_job',
    text: `WITH ${buildSuccess({ job: '$1', worker: '$2', now: '$3', state: '$4' })}${nextCte(p, 5)}
      SELECT job.transition, job.workspace_id, ${p.next ? NEXT_JOB_COLUMNS : 'NULL AS next_job'} FROM job ${p.next ? NEXT_JOB_JOIN : ''}
      WHERE ${UNFINISHED_BUILD_WRITE}`,
    values: [p.jobId, p.workerId, p.now, p.state, ...nextValues(p)],
  });
  return withNext(rows[0]);
}

/** `nextCte`'s values (none without `next`). */
function nextValues(p: CompleteBuildJobParams): unknown[] {
  return p.next ? acquireValues({ ...p.next, now: p.now, workerId: p.workerId }) : [];
}

/**
 * `completeBuildJob` and the daemon's last lines in ONE statement: the job row is locked first (`lock`) only if it is
 * still this worker's, open, and its log budget and log_seq are what the server remembers; only then are the lines
 * inserted and the job completed with its new budget, log_seq and newest line id. Undefined when nothing matched (the
 * caller sends the lines and the completion the usual way). `firstId` and `lastId` bound the lines' ids, for the
 * notification the caller sends once committed.
 */
export async function completeBuildJobWithLines(
  db: Queryable,
  p: CompleteBuildJobParams & { lines: NewJobLog[]; expected: ExpectedLogBudget; usage: JobLogUsage },
): Promise<(CompletedBuild & { first_id: number; last_id: number }) | undefined> {
  const { rows } = await db.query<Omit<CompletedBuild, 'next'> & NextColumns & { first_id: number; last_id: number }>({
    name: p.next ? 'kiln_complete_build_job_with_lines_and_acquire' : 'kiln_complete_build_job_with_lines',
    text: `WITH lock AS (
        SELECT id FROM provisioner_jobs
        WHERE id = $1 AND worker_id = $7 AND started_at IS NOT NULL AND completed_at IS NULL
          AND logs_length = $10 AND log_seq = $11 AND NOT logs_overflowed
        FOR UPDATE),
      ins AS (
        ${insertLines('WHERE EXISTS (SELECT 1 FROM lock)')}),
      ${buildSuccess({
        job: '$1', worker: '$7', now: '$8', state: '$9', from: 'lock',
        jobSet: `logs_length = $12, logs_overflowed = $13, log_seq = GREATEST(j.log_seq, $14),
          last_log_id = GREATEST(j.last_log_id, (SELECT coalesce(max(id), 0) FROM ins))`,
        extraWhere: 'lock.id = j.id',
      })},
      bounds AS (SELECT min(id) AS first_id, max(id) AS last_id FROM ins)${nextCte(p, 15)}
      SELECT job.transition, job.workspace_id, bounds.first_id, bounds.last_id, ${p.next ? NEXT_JOB_COLUMNS : 'NULL AS next_job'}
      FROM job, bounds ${p.next ? NEXT_JOB_JOIN : ''} WHERE ${UNFINISHED_BUILD_WRITE}`,
    values: [
      ...lineValues(p.jobId, p.lines),
      p.workerId, p.now, p.state, p.expected.logsLength, p.expected.logSeq, p.usage.logsLength, p.usage.logsOverflowed, p.usage.logSeq,
      ...nextValues(p),
    ],
  });
  return withNext<CompletedBuild & { first_id: number; last_id: number }>(rows[0]);
}
