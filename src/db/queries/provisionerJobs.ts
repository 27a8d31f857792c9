import { timeOrderedUuid } from '../../lib/timeOrderedUuid.js';
import { UNFINISHED_JOBS_ONLY, type Queryable } from '../pool.js';

import { BUILD_JOB_PAYLOAD, type BuildJobPayload } from './provisionerJobTargets.js';
import { revive } from './views.js';

export type ProvisionerJobType = 'template_version_import' | 'workspace_build' | 'template_version_dry_run';

export interface ProvisionerJobRow {
  id: string;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  canceled_at: Date | null;
  completed_at: Date | null;
  error: string | null;
  organization_id: string;
  initiator_id: string;
  provisioner: string;
  storage_method: string;
  type: ProvisionerJobType;
  input: Record<string, unknown>;
  worker_id: string | null;
  file_id: string;
  tags: Record<string, string>;
  logs_length: number;
  logs_overflowed: boolean;
  /** The id of the job's newest log line, 0 before the first (kept by a trigger, migration 000091). */
  last_log_id: number;
  /** The highest daemon-assigned log sequence number stored (0: none): a re-sent batch is recognised by it. */
  log_seq?: number;
}

/**
 * Job inputs, by type. `workspace_build` jobs point at their build; imports at their template version.
 * `orphan` makes a delete build skip the provisioner entirely (see docs/compatibility.md).
 */
export interface WorkspaceBuildJobInput {
  workspace_build_id: string;
  /** Plan only: the build reports what it would create and keeps the state it started from. */
  dry_run: boolean;
  orphan?: boolean;
}
export interface TemplateVersionImportJobInput {
  template_version_id: string;
}
/** A template version dry run: the workspace it pretends to build, and its legacy parameter values. */
export interface TemplateVersionDryRunJobInput {
  template_version_id: string;
  workspace_name: string;
  parameter_values: { name: string; value: string; destination_scheme: 'environment_variable' | 'provisioner_variable' }[];
}

export interface InsertProvisionerJobParams {
  /** Also the time in the job's id (`timeOrderedUuid`). */
  now: Date;
  organizationId: string;
  initiatorId: string;
  provisioner: string;
  type: ProvisionerJobType;
  input: WorkspaceBuildJobInput | TemplateVersionImportJobInput | TemplateVersionDryRunJobInput | Record<string, unknown>;
  fileId: string;
  tags: Record<string, string>;
}

/** The INSERT of a new job, returning its row; its values are $1–$9, in the order `insertJobValues` gives them. */
export const INSERT_JOB = `INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, type, input, file_id, tags)
  VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`;

/** `INSERT_JOB`'s values; the job's id is made here, from its creation time (`timeOrderedUuid`). */
export function insertJobValues(p: InsertProvisionerJobParams): unknown[] {
  return [timeOrderedUuid(p.now), p.now, p.organizationId, p.initiatorId, p.provisioner, p.type, JSON.stringify(p.input), p.fileId, JSON.stringify(p.tags)];
}

/** Inserts a job (its caller announces it once committed: src/jobs/enqueue.ts). */
export async function insertProvisionerJob(db: Queryable, p: InsertProvisionerJobParams): Promise<ProvisionerJobRow> {
  const { rows } = await db.query<ProvisionerJobRow>(INSERT_JOB, insertJobValues(p));
  return rows[0] as ProvisionerJobRow;
}

export async function getProvisionerJobByID(db: Queryable, id: string): Promise<ProvisionerJobRow | undefined> {
  const { rows } = await db.query<ProvisionerJobRow>('SELECT * FROM provisioner_jobs WHERE id = $1', [id]);
  return rows[0];
}

export async function getProvisionerJobsByIDs(db: Queryable, ids: string[]): Promise<ProvisionerJobRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<ProvisionerJobRow>('SELECT * FROM provisioner_jobs WHERE id = ANY($1::uuid[])', [ids]);
  return rows;
}

/** Locks the job row for the rest of the transaction (cancel and complete race on it). */
export async function getProvisionerJobForUpdate(db: Queryable, id: string): Promise<ProvisionerJobRow | undefined> {
  const { rows } = await db.query<ProvisionerJobRow>('SELECT * FROM provisioner_jobs WHERE id = $1 FOR UPDATE', [id]);
  return rows[0];
}

/**
 * Queue position of pending jobs (1 = next), counted among pending jobs of the same provisioner created earlier,
 * plus the queue size. Approximate across tag sets, exact for one tag set.
 */
export async function getQueuePositions(db: Queryable, ids: string[]): Promise<Map<string, { position: number; size: number }>> {
  const out = new Map<string, { position: number; size: number }>();
  if (ids.length === 0) return out;
  const { rows } = await db.query<{ id: string; position: number; size: number }>(
    `WITH pending AS (
       SELECT id, provisioner, tags,
              row_number() OVER (PARTITION BY provisioner, tags ORDER BY created_at, id)::int AS position,
              count(*) OVER (PARTITION BY provisioner, tags)::int AS size
       FROM provisioner_jobs
       WHERE started_at IS NULL AND completed_at IS NULL AND canceled_at IS NULL
     )
     SELECT id, position, size FROM pending WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  for (const r of rows) out.set(r.id, { position: r.position, size: r.size });
  return out;
}

export interface ProvisionerJobLogRow {
  id: number;
  job_id: string;
  created_at: Date;
  source: 'provisioner_daemon' | 'provisioner';
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  stage: string;
  output: string;
}

/**
 * A job's log lines with `after < id < before` (each bound optional), ascending. AND semantics, not Coder's OR
 * (deviation 6). `limit` bounds one page of a follower's catch-up.
 */
/** The daemon's stage-marker lines of a job (source `provisioner_daemon`, empty output), oldest first: where each stage began. */
export async function getJobStageMarkers(db: Queryable, jobId: string): Promise<{ created_at: Date; stage: string }[]> {
  const { rows } = await db.query<{ created_at: Date; stage: string }>(
    `SELECT created_at, stage FROM provisioner_job_logs WHERE job_id = $1 AND source = 'provisioner_daemon' AND output = '' ORDER BY id`,
    [jobId],
  );
  return rows;
}

export async function getProvisionerJobLogs(
  db: Queryable,
  jobId: string,
  range: { after?: number; before?: number; limit?: number } = {},
): Promise<ProvisionerJobLogRow[]> {
  const { rows } = await db.query<ProvisionerJobLogRow>(
    `SELECT id, job_id, created_at, source, level, stage, output FROM provisioner_job_logs
     WHERE job_id = $1 AND ($2::bigint IS NULL OR id > $2) AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id LIMIT $4`,
    [jobId, range.after ?? null, range.before ?? null, range.limit ?? null],
  );
  return rows;
}

/**
 * The job's log lines after `after` (at most `limit`) and whether the job has completed, read in ONE statement, so from
 * one snapshot: a job's lines are all committed before its completion is, so when this says completed, every line is
 * in this answer or before `after`. A follower's catch-up (src/api/provisionerJobs/follower.ts).
 */
export async function getProvisionerJobLogsAndEnd(db: Queryable, jobId: string, after: number, limit: number): Promise<{ completed: boolean; rows: ProvisionerJobLogRow[] }> {
  const { rows } = await db.query<{ completed: boolean | null } & { [K in keyof ProvisionerJobLogRow]: ProvisionerJobLogRow[K] | null }>(
    `SELECT (SELECT completed_at IS NOT NULL FROM provisioner_jobs WHERE id = $1) AS completed,
       l.id, l.job_id, l.created_at, l.source, l.level, l.stage, l.output
     FROM (SELECT 1) AS one
       LEFT JOIN LATERAL (SELECT * FROM provisioner_job_logs WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3) AS l ON true`,
    [jobId, after, limit],
  );
  return { completed: rows[0]?.completed === true, rows: rows.filter((r) => r.id !== null) as ProvisionerJobLogRow[] };
}

/**
 * Marks a job canceled. A job no daemon has taken is completed at the same instant (it goes straight to `canceled`);
 * a running one only gets `canceled_at`, and its daemon finishes it.
 */
export async function updateProvisionerJobCanceled(db: Queryable, id: string, now: Date): Promise<ProvisionerJobRow> {
  const { rows } = await db.query<ProvisionerJobRow>(
    `UPDATE provisioner_jobs SET canceled_at = $2, updated_at = $2,
       completed_at = CASE WHEN worker_id IS NULL THEN $2::timestamptz ELSE completed_at END
     WHERE id = $1 RETURNING *`,
    [id, now],
  );
  return rows[0] as ProvisionerJobRow;
}

// --- The queue (src/jobs): acquisition, heartbeats, completion, reaping.

export interface AcquireJobParams {
  now: Date;
  workerId: string;
  provisioners: string[];
  tags: Record<string, string>;
  /** An external daemon serves one organization; a built-in one (null) serves all. */
  organizationId?: string | null;
}

/** An acquired job; a workspace build's comes with what its daemon is handed (null fields: see `getBuildJobPayload`). */
export type AcquiredJobRow = ProvisionerJobRow & { buildPayload?: BuildJobPayload };

/**
 * Hands the oldest job this daemon can run to it, in ONE statement. The subquery picks a candidate with
 * `FOR UPDATE SKIP LOCKED`: concurrent acquirers never wait on each other and never lock the same row (a row another
 * acquirer holds is skipped, and one it has already stamped fails the re-check of `started_at IS NULL`). The UPDATE
 * stamps the row in the same statement, so nobody ever sees a job locked but not yet started. Canceled and completed
 * jobs are skipped (deviation 4). `tags <@ daemon tags`: every tag the job requires must be on the daemon.
 */
export async function acquireProvisionerJob(db: Queryable, p: AcquireJobParams): Promise<AcquiredJobRow | undefined> {
  const { rows } = await db.query<AcquiredColumns>({
    name: 'kiln_acquire_job',
    text: `${UNFINISHED_JOBS_ONLY} WITH ${acquiredCte({ now: '$1', worker: '$2', provisioners: '$3', tags: '$4', org: '$5' })}
     SELECT ${ACQUIRED_COLUMNS} FROM ${ACQUIRED_FROM}`,
    values: acquireValues(p),
  });
  return rows[0] && acquiredFromColumns(rows[0]);
}

/**
 * The acquisition as the CTE `acquired` of a larger statement (placeholders by name): the candidate picked with
 * `FOR UPDATE SKIP LOCKED`, stamped by the same UPDATE. `gate`: a condition that must hold for anything to be picked
 * (a daemon's success takes its next job only if the success itself matched).
 */
export const acquiredCte = (p: { now: string; worker: string; provisioners: string; tags: string; org: string; gate?: string }) => `acquired AS (
       UPDATE provisioner_jobs SET started_at = ${p.now}, updated_at = ${p.now}, worker_id = ${p.worker}
       WHERE id = (
         SELECT id FROM provisioner_jobs
         WHERE started_at IS NULL AND canceled_at IS NULL AND completed_at IS NULL
           AND provisioner = ANY(${p.provisioners}::text[]) AND tags <@ ${p.tags}::jsonb
           AND (${p.org}::uuid IS NULL OR organization_id = ${p.org})${p.gate ? `\n           AND ${p.gate}` : ''}
         ORDER BY created_at
         FOR UPDATE SKIP LOCKED
         LIMIT 1
       )
       RETURNING *)`;

/** The values of `acquiredCte`'s placeholders, in the order now, worker, provisioners, tags, org. */
export function acquireValues(p: AcquireJobParams): unknown[] {
  return [p.now, p.workerId, p.provisioners, JSON.stringify(p.tags), p.organizationId ?? null];
}

/** What a statement with `acquiredCte` selects for the acquired job: the row, and a build's payload beside it. */
export const ACQUIRED_COLUMNS = `acquired.*, to_jsonb(payload) - 'provisioner_state' AS build_payload, payload.provisioner_state AS build_payload_state`;
export const ACQUIRED_FROM = `acquired LEFT JOIN LATERAL (${BUILD_JOB_PAYLOAD("(acquired.input ->> 'workspace_build_id')::uuid", 'acquired.initiator_id')}) payload
       ON acquired.type = 'workspace_build'`;

/**
 * A statement whose main query has the row `from` (one row at most) also hands out the job `acquiredCte` took: a
 * lateral join adding `next_job`, `next_payload` and `next_payload_state` (null when nothing was taken).
 */
export const NEXT_JOB_JOIN = `LEFT JOIN LATERAL (SELECT to_jsonb(acquired) AS next_job, to_jsonb(payload) - 'provisioner_state' AS next_payload,
         payload.provisioner_state AS next_payload_state FROM ${ACQUIRED_FROM}) nx ON true`;
export const NEXT_JOB_COLUMNS = 'nx.next_job, nx.next_payload, nx.next_payload_state';

/** `NEXT_JOB_COLUMNS` of a row, as the acquired job (undefined: none). */
export function nextJobFromColumns(r: { next_job: Record<string, unknown> | null; next_payload: Record<string, unknown> | null; next_payload_state: Buffer | null }): AcquiredJobRow | undefined {
  if (!r.next_job) return undefined;
  return acquiredFromColumns({ ...revive<ProvisionerJobRow>(r.next_job), build_payload: r.next_payload, build_payload_state: r.next_payload_state });
}

type AcquiredColumns = ProvisionerJobRow & { build_payload: Record<string, unknown> | null; build_payload_state: Buffer | null };

/** `ACQUIRED_COLUMNS` of one row, as the acquired job. */
export function acquiredFromColumns(r: AcquiredColumns): AcquiredJobRow {
  const { build_payload, build_payload_state, ...job } = r;
  if (!build_payload) return job;
  const buildPayload = build_payload as unknown as BuildJobPayload;
  buildPayload.provisioner_state = build_payload_state;
  return { ...job, buildPayload };
}

/**
 * The heartbeat of a log-less update: touches `updated_at` when the job is still this worker's and unfinished.
 * Undefined means it is not (the caller finds out why).
 */
export async function touchProvisionerJob(db: Queryable, id: string, workerId: string, now: Date): Promise<{ canceled_at: Date | null } | undefined> {
  const { rows } = await db.query<{ canceled_at: Date | null }>(
    `${UNFINISHED_JOBS_ONLY} UPDATE provisioner_jobs SET updated_at = $3 WHERE id = $1 AND worker_id = $2 AND completed_at IS NULL RETURNING canceled_at`,
    [id, workerId, now],
  );
  return rows[0];
}

/** A job's log budget and heartbeat after a batch; `logSeq` raises `log_seq` (see ProvisionerJobRow), 0 leaves it. */
export interface JobLogUsage {
  now: Date;
  logsLength: number;
  logsOverflowed: boolean;
  logSeq: number;
}

export async function updateProvisionerJobLogUsage(db: Queryable, id: string, p: JobLogUsage): Promise<void> {
  // Only for a job its caller holds locked and found open.
  await db.query(`${UNFINISHED_JOBS_ONLY} UPDATE provisioner_jobs SET updated_at = $2, logs_length = $3, logs_overflowed = $4, log_seq = GREATEST(log_seq, $5) WHERE id = $1`, [
    id, p.now, p.logsLength, p.logsOverflowed, p.logSeq,
  ]);
}

/** Locks the job unless someone else holds it (the reaper must not wait behind a daemon completing the job). */
export async function getProvisionerJobForUpdateSkipLocked(db: Queryable, id: string): Promise<ProvisionerJobRow | undefined> {
  const { rows } = await db.query<ProvisionerJobRow>('SELECT * FROM provisioner_jobs WHERE id = $1 FOR UPDATE SKIP LOCKED', [id]);
  return rows[0];
}

/** Running jobs whose heartbeat stopped before `updatedBefore`, oldest first. */
export async function getHungProvisionerJobs(db: Queryable, updatedBefore: Date, limit: number): Promise<ProvisionerJobRow[]> {
  const { rows } = await db.query<ProvisionerJobRow>(
    `SELECT * FROM provisioner_jobs WHERE started_at IS NOT NULL AND completed_at IS NULL AND updated_at < $1
     ORDER BY updated_at LIMIT $2`,
    [updatedBefore, limit],
  );
  return rows;
}

/** Jobs no daemon has taken since before `createdBefore`, oldest first. */
export async function getStalePendingProvisionerJobs(db: Queryable, createdBefore: Date, limit: number): Promise<ProvisionerJobRow[]> {
  const { rows } = await db.query<ProvisionerJobRow>(
    `SELECT * FROM provisioner_jobs WHERE started_at IS NULL AND canceled_at IS NULL AND completed_at IS NULL AND created_at < $1
     ORDER BY created_at LIMIT $2`,
    [createdBefore, limit],
  );
  return rows;
}

/** Puts a job this worker took back in the queue (it could not be handed over: the daemon's connection was gone). */
export async function releaseProvisionerJob(db: Queryable, id: string, workerId: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE provisioner_jobs SET started_at = NULL, worker_id = NULL
     WHERE id = $1 AND worker_id = $2 AND completed_at IS NULL AND log_seq = 0 AND logs_length = 0`,
    [id, workerId],
  );
  return (r.rowCount ?? 0) > 0;
}

/**
 * Puts back in the queue every job this worker took and never touched: called for a built-in daemon asking for a job
 * (so running none) after a success that may have taken its next job failed to answer (src/jobs/acquire.ts). A job
 * with a cancel requested stays, for the reaper to end.
 */
export async function releaseUntouchedJobsOfWorker(db: Queryable, workerId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `${UNFINISHED_JOBS_ONLY} UPDATE provisioner_jobs SET started_at = NULL, worker_id = NULL
     WHERE worker_id = $1 AND started_at IS NOT NULL AND completed_at IS NULL AND canceled_at IS NULL AND log_seq = 0 AND logs_length = 0
     RETURNING id`,
    [workerId],
  );
  return rows.map((r) => r.id);
}

/** Is `fileId` the archive of a job this worker is running? A daemon may fetch only those files. */
export async function workerRunsJobWithFile(db: Queryable, workerId: string, fileId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM provisioner_jobs WHERE worker_id = $1 AND file_id = $2 AND completed_at IS NULL LIMIT 1', [workerId, fileId]);
  return rows.length > 0;
}

export interface JobNamesRow {
  id: string;
  template_version_name: string | null;
  template_id: string | null;
  template_name: string | null;
  template_display_name: string | null;
  template_icon: string | null;
  workspace_id: string | null;
  workspace_name: string | null;
}

/** The names a job's `metadata` shows (its version, template and workspace), for any kind of job, in one statement. */
export async function getJobNames(db: Queryable, jobIds: string[]): Promise<JobNamesRow[]> {
  if (jobIds.length === 0) return [];
  const { rows } = await db.query<JobNamesRow>(
    `SELECT j.id, v.name AS template_version_name, t.id AS template_id, t.name AS template_name, t.display_name AS template_display_name,
            t.icon AS template_icon, w.id AS workspace_id, w.name AS workspace_name
     FROM provisioner_jobs j
     LEFT JOIN workspace_builds b ON b.job_id = j.id
     LEFT JOIN workspaces w ON w.id = b.workspace_id
     LEFT JOIN template_versions v ON v.id = COALESCE(b.template_version_id, (j.input->>'template_version_id')::uuid)
     LEFT JOIN templates t ON t.id = v.template_id
     WHERE j.id = ANY($1::uuid[])`,
    [jobIds],
  );
  return rows;
}
