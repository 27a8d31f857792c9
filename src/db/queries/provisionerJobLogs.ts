import { UNFINISHED_JOBS_ONLY, type Queryable } from '../pool.js';

import type { JobLogUsage } from './provisionerJobs.js';

/** Write side of job logs (reads are `getProvisionerJobLogs` in provisionerJobs.ts). */

export interface NewJobLog {
  createdAt: Date;
  source: 'provisioner_daemon' | 'provisioner';
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  stage: string;
  output: string;
}

/**
 * The insert of a batch, `$1` the job and `$2`…`$6` the columns (`lineValues`). The rows are unnested WITH ORDINALITY
 * and sorted by it, so the sequence hands out ids in the order the daemon wrote the lines: ids are the follow cursor.
 * Times travel as milliseconds since the epoch (float8): formatting 2,000 Dates as text took node-postgres longer
 * than the rest of the batch's parameters together, while the insert waited.
 */
export const insertLines = (where = '') => `INSERT INTO provisioner_job_logs (job_id, created_at, source, level, stage, output)
       SELECT $1, to_timestamp(t.created_ms / 1000), t.source, t.level, t.stage, t.output
       FROM unnest($2::float8[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
         AS t(created_ms, source, level, stage, output, ord)
       ${where}
       ORDER BY t.ord
       RETURNING id`;

export function lineValues(jobId: string, logs: NewJobLog[]): unknown[] {
  return [jobId, ...(encoded.get(logs) ?? encodeLines(logs))];
}

/** Batches encoded ahead of their insert (`encodeLines`), by identity. */
const encoded = new WeakMap<NewJobLog[], string[]>();

/**
 * A batch's columns as PostgreSQL array literals (`$2`…`$6`), remembered for this array of lines: the server encodes
 * a batch while the one before it is being inserted, so the insert is sent the moment the previous one answers.
 * Written here rather than by node-postgres: one pass per value instead of two.
 */
export function encodeLines(logs: NewJobLog[]): string[] {
  const text = (pick: (l: NewJobLog) => string) => `{${logs.map((l) => `"${pick(l).replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
  const out = [`{${logs.map((l) => l.createdAt.getTime()).join(',')}}`, text((l) => l.source), text((l) => l.level), text((l) => l.stage), text((l) => l.output)];
  encoded.set(logs, out);
  return out;
}

/**
 * Every statement that inserts lines (`ins`) also raises the job's `last_log_id` to its newest line, in the same
 * statement (migration 000094 dropped the trigger that did it: capturing every inserted row for it cost a tenth of a
 * batch). test/integration/writeStatements.test.ts checks each path.
 */
const LAST_LOG_ID = `last AS (UPDATE provisioner_jobs SET last_log_id = GREATEST(last_log_id, (SELECT coalesce(max(id), 0) FROM ins)) WHERE id = $1)`;

/** Inserts a batch (and raises the job's `last_log_id`) in ONE statement; returns the ids in batch order. */
export async function insertProvisionerJobLogs(db: Queryable, jobId: string, logs: NewJobLog[]): Promise<number[]> {
  if (logs.length === 0) return [];
  const { rows } = await db.query<{ id: number }>(
    `WITH ins AS (
       ${insertLines()}),
     ${LAST_LOG_ID}
     SELECT id FROM ins`,
    lineValues(jobId, logs),
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/**
 * A daemon's batch in ONE statement: the lines (ids in batch order, as above), the job's log budget, heartbeat and
 * log_seq. The caller holds the job's row lock, and tells followers once it has committed (src/jobs/update.ts).
 */
export async function insertProvisionerJobLogsWithUsage(db: Queryable, jobId: string, logs: NewJobLog[], usage: JobLogUsage): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>({
    name: 'kiln_insert_job_logs_with_usage',
    // Only for a job its caller holds locked and found open.
    text: `${UNFINISHED_JOBS_ONLY} WITH ins AS (
       ${insertLines()}),
     usage AS (UPDATE provisioner_jobs SET updated_at = $7, logs_length = $8, logs_overflowed = $9, log_seq = GREATEST(log_seq, $10),
                 last_log_id = GREATEST(last_log_id, (SELECT coalesce(max(id), 0) FROM ins)) WHERE id = $1)
     SELECT id FROM ins`,
    values: [...lineValues(jobId, logs), usage.now, usage.logsLength, usage.logsOverflowed, usage.logSeq],
  });
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/** The stage of the job's newest line: where the reaper appends its explanation. */
export async function getLastProvisionerJobLogStage(db: Queryable, jobId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ stage: string }>('SELECT stage FROM provisioner_job_logs WHERE job_id = $1 ORDER BY id DESC LIMIT 1', [jobId]);
  return rows[0]?.stage;
}

/** What a daemon's update expects the job's log budget to be (its last update's outcome, remembered by the server). */
export interface ExpectedLogBudget {
  workerId: string;
  logsLength: number;
  logSeq: number;
}

/**
 * A daemon's batch in ONE autocommit statement, taken when the server remembers the job's log budget from the
 * previous update: the job row is locked (`job`) only if it is still this worker's, open, and its budget and log_seq
 * are what the server remembers; only then are the lines inserted and the row updated (budget, log_seq,
 * `last_log_id`). Undefined when the row did not match (the caller falls back to the locked read): someone else wrote
 * to the job meanwhile (a cancel does not count, it is reported), or the job is not this worker's any more.
 * `prevLastId` is the job's newest line id before the batch, read under the row lock; `firstId` and `lastId` bound the
 * batch's ids, for the notification its caller sends once it has committed.
 */
export async function insertProvisionerJobLogsIfBudget(
  db: Queryable,
  jobId: string,
  expected: ExpectedLogBudget,
  logs: NewJobLog[],
  usage: JobLogUsage,
  /** Return the new lines' ids (for this server's followers); without them PostgreSQL skips sorting and sending 2,000. */
  withIds = true,
): Promise<{ ids: number[]; firstId: number | null; lastId: number | null; prevLastId: number; canceled: boolean } | undefined> {
  const { rows } = await db.query<{ ids: number[] | null; first_id: number | null; last_id: number | null; prev_last_id: number; canceled: boolean }>({
    name: 'kiln_insert_job_logs_if_budget',
    text: `${UNFINISHED_JOBS_ONLY} WITH job AS (
       SELECT last_log_id, canceled_at IS NOT NULL AS canceled FROM provisioner_jobs
       WHERE id = $1 AND worker_id = $11 AND started_at IS NOT NULL AND completed_at IS NULL
         AND logs_length = $12 AND log_seq = $13 AND NOT logs_overflowed
       FOR UPDATE),
     ins AS (
       ${insertLines('WHERE EXISTS (SELECT 1 FROM job)')}),
     usage AS (
       UPDATE provisioner_jobs SET updated_at = $7, logs_length = $8, logs_overflowed = $9, log_seq = GREATEST(log_seq, $10),
         last_log_id = GREATEST(last_log_id, (SELECT coalesce(max(id), 0) FROM ins))
       WHERE id = $1 AND EXISTS (SELECT 1 FROM job)),
     bounds AS (SELECT min(id) AS first_id, max(id) AS last_id FROM ins)
     SELECT CASE WHEN $14 THEN (SELECT array_agg(id ORDER BY id) FROM ins) END AS ids, bounds.first_id, bounds.last_id,
       job.last_log_id AS prev_last_id, job.canceled
     FROM job, bounds`,
    values: [
      ...lineValues(jobId, logs),
      usage.now, usage.logsLength, usage.logsOverflowed, usage.logSeq, expected.workerId, expected.logsLength, expected.logSeq, withIds,
    ],
  });
  const r = rows[0];
  if (!r) return undefined;
  // int8[] comes back as strings (only scalar int8 is parsed to numbers, src/db/pool.ts).
  return { ids: (r.ids ?? []).map(Number), firstId: r.first_id, lastId: r.last_id, prevLastId: Number(r.prev_last_id), canceled: r.canceled };
}
