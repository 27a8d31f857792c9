import type { Queryable } from '../pool.js';

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
 * Inserts a batch in ONE multi-row statement and returns the ids in batch order. The rows are unnested WITH ORDINALITY
 * and sorted by it, so the sequence hands out ids in the order the daemon wrote the lines: ids are the follow cursor.
 */
export async function insertProvisionerJobLogs(db: Queryable, jobId: string, logs: NewJobLog[]): Promise<number[]> {
  if (logs.length === 0) return [];
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO provisioner_job_logs (job_id, created_at, source, level, stage, output)
     SELECT $1, t.created_at, t.source, t.level, t.stage, t.output
     FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
       AS t(created_at, source, level, stage, output, ord)
     ORDER BY t.ord
     RETURNING id`,
    [jobId, logs.map((l) => l.createdAt), logs.map((l) => l.source), logs.map((l) => l.level), logs.map((l) => l.stage), logs.map((l) => l.output)],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/**
 * A daemon's batch in ONE statement: the lines (ids in batch order, as above), the job's log budget, heartbeat and log_seq, and
 * the NOTIFY on `channel` (`{created_after, last_id, origin}`, sent by PostgreSQL when the transaction commits). The caller
 * holds the job's row lock.
 */
export async function insertProvisionerJobLogsWithUsage(
  db: Queryable,
  jobId: string,
  logs: NewJobLog[],
  usage: JobLogUsage,
  channel: string,
  origin: string,
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>({
    name: 'kiln_insert_job_logs_with_usage',
    text: `WITH ins AS (
       INSERT INTO provisioner_job_logs (job_id, created_at, source, level, stage, output)
       SELECT $1, t.created_at, t.source, t.level, t.stage, t.output
       FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
         AS t(created_at, source, level, stage, output, ord)
       ORDER BY t.ord
       RETURNING id),
     usage AS (UPDATE provisioner_jobs SET updated_at = $7, logs_length = $8, logs_overflowed = $9, log_seq = GREATEST(log_seq, $12) WHERE id = $1),
     note AS (SELECT pg_notify($10, json_build_object('created_after', min(id) - 1, 'last_id', max(id), 'origin', $11::text)::text) FROM ins)
     SELECT id FROM ins, note`,
    values: [
      jobId, logs.map((l) => l.createdAt), logs.map((l) => l.source), logs.map((l) => l.level), logs.map((l) => l.stage), logs.map((l) => l.output),
      usage.now, usage.logsLength, usage.logsOverflowed, channel, origin, usage.logSeq,
    ],
  });
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/** The stage of the job's newest line: where the reaper appends its explanation. */
export async function getLastProvisionerJobLogStage(db: Queryable, jobId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ stage: string }>('SELECT stage FROM provisioner_job_logs WHERE job_id = $1 ORDER BY id DESC LIMIT 1', [jobId]);
  return rows[0]?.stage;
}
