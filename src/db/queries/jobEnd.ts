import { assertChannelName } from '../pubsub.js';
import type { Queryable } from '../pool.js';

import { BUILD_TARGET_COLUMNS, BUILD_TARGET_FROM, buildAfterJobSet, type BuildJobTarget } from './provisionerJobTargets.js';
import type { ProvisionerJobRow } from './provisionerJobs.js';
import { revive } from './views.js';

/**
 * Ending a job (success or failure) in two statements inside the caller's transaction: the job locked and read with
 * its build's target (`getJobForUpdateWithTarget`), then the job completed, its build updated, a deleted workspace
 * marked and the notifications queued, by ONE statement (`endJob`). Each reported resource adds its inserts.
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

/** Completes the job (a non-empty `error` fails it) and writes what that does to its build and workspace, in ONE statement. */
export async function endJob(db: Queryable, p: EndJobParams): Promise<void> {
  for (const n of p.notes) assertChannelName(n.channel);
  await db.query({
    name: 'kiln_end_job',
    text: `WITH job AS (
        UPDATE provisioner_jobs SET completed_at = $2, updated_at = $2, error = $3, started_at = COALESCE(started_at, $2) WHERE id = $1 RETURNING id),
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
