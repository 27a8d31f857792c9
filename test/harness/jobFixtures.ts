import { createHash, randomUUID } from 'node:crypto';

import type { Pool } from '../../src/db/pool.js';
import { inTx } from '../../src/db/pool.js';
import { JOB_POSTED_CHANNEL } from '../../src/jobs/channels.js';
import { enqueueJob } from '../../src/jobs/enqueue.js';
import { createTar } from '../../src/sdk/tar.js';

/**
 * Queue fixtures written with SQL, so queue and daemon tests do not depend on the template and workspace routes:
 * a file, a template version whose import already succeeded, a template, a workspace, and builds with their jobs.
 */

export interface Owner {
  userId: string;
  orgId: string;
}

export async function insertFile(pool: Pool, owner: Owner, data: Uint8Array): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO files (id, hash, created_by, mimetype, data, created_at) VALUES ($1, $2, $3, 'application/x-tar', $4, now())`,
    [id, createHash('sha256').update(data).digest('hex') + id, owner.userId, Buffer.from(data)],
  );
  return id;
}

export interface EchoTemplate {
  fileId: string;
  templateId: string;
  versionId: string;
  importJobId: string;
}

/** A template (and its active version, imported successfully) whose archive holds `echo` as echo.json. */
export async function insertEchoTemplate(pool: Pool, owner: Owner, echo: unknown, opts: { defaultTtlMs?: number; archive?: Uint8Array } = {}): Promise<EchoTemplate> {
  const fileId = await insertFile(pool, owner, opts.archive ?? createTar({ 'echo.json': JSON.stringify(echo) }));
  const importJobId = randomUUID();
  const versionId = randomUUID();
  const templateId = randomUUID();
  await inTx(pool, async (tx) => {
    await tx.query(
      `INSERT INTO provisioner_jobs (id, created_at, updated_at, started_at, completed_at, organization_id, initiator_id, provisioner, type, input, file_id, tags)
       VALUES ($1, now(), now(), now(), now(), $2, $3, 'echo', 'template_version_import', $4, $5, '{"scope":"organization"}')`,
      [importJobId, owner.orgId, owner.userId, JSON.stringify({ template_version_id: versionId }), fileId],
    );
    await tx.query(
      `INSERT INTO template_versions (id, template_id, organization_id, created_at, updated_at, name, job_id, created_by)
       VALUES ($1, NULL, $2, now(), now(), $3, $4, $5)`,
      [versionId, owner.orgId, `v-${versionId.slice(0, 8)}`, importJobId, owner.userId],
    );
    await tx.query(
      `INSERT INTO templates (id, created_at, updated_at, organization_id, name, provisioner, active_version_id, default_ttl_ms, created_by)
       VALUES ($1, now(), now(), $2, $3, 'echo', $4, $5, $6)`,
      [templateId, owner.orgId, `tpl-${templateId.slice(0, 8)}`, versionId, opts.defaultTtlMs ?? 0, owner.userId],
    );
    await tx.query('UPDATE template_versions SET template_id = $1 WHERE id = $2', [templateId, versionId]);
  });
  return { fileId, templateId, versionId, importJobId };
}

export async function insertWorkspace(pool: Pool, owner: Owner, t: EchoTemplate, opts: { ttlMs?: number | null } = {}): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name, ttl_ms, last_used_at)
     VALUES ($1, now(), now(), $2, $3, $4, $5, $6, now())`,
    [id, owner.userId, owner.orgId, t.templateId, `ws-${id.slice(0, 8)}`, opts.ttlMs ?? null],
  );
  return id;
}

export interface BuildRefs {
  buildId: string;
  jobId: string;
}

/** Queues a build of the workspace, and wakes idle daemons once it has committed (as the server's announceJob does). */
export async function insertBuild(
  pool: Pool,
  owner: Owner,
  t: EchoTemplate,
  workspaceId: string,
  opts: { transition?: 'start' | 'stop' | 'delete'; buildNumber?: number; state?: string | null; orphan?: boolean; now?: Date } = {},
): Promise<BuildRefs> {
  const buildId = randomUUID();
  const now = opts.now ?? new Date();
  const refs = await inTx(pool, async (tx) => {
    const { rows } = await tx.query<{ n: number }>('SELECT coalesce(max(build_number), 0)::int + 1 AS n FROM workspace_builds WHERE workspace_id = $1', [workspaceId]);
    const job = await enqueueJob(tx, {
      now,
      organizationId: owner.orgId,
      initiatorId: owner.userId,
      provisioner: 'echo',
      type: 'workspace_build',
      input: { workspace_build_id: buildId, dry_run: false, ...(opts.orphan ? { orphan: true } : {}) },
      fileId: t.fileId,
      tags: { scope: 'organization' },
    });
    await tx.query(
      `INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, provisioner_state, job_id)
       VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [buildId, now, workspaceId, t.versionId, opts.buildNumber ?? rows[0]?.n ?? 1, opts.transition ?? 'start', owner.userId, opts.state == null ? null : Buffer.from(opts.state), job.id],
    );
    return { buildId, jobId: job.id };
  });
  await pool.query('SELECT pg_notify($1, $2)', [JOB_POSTED_CHANNEL, refs.jobId]);
  return refs;
}

/** A bare job for queue mechanics (no build behind it). */
export async function insertBareJob(
  pool: Pool,
  owner: Owner,
  fileId: string,
  opts: { provisioner?: string; tags?: Record<string, string>; createdAt?: Date; canceled?: boolean; completed?: boolean } = {},
): Promise<string> {
  const id = randomUUID();
  const at = opts.createdAt ?? new Date();
  await pool.query(
    `INSERT INTO provisioner_jobs (id, created_at, updated_at, canceled_at, completed_at, organization_id, initiator_id, provisioner, type, input, file_id, tags)
     VALUES ($1, $2, $2, $3, $4, $5, $6, $7, 'template_version_import', '{}', $8, $9)`,
    [id, at, opts.canceled ? at : null, opts.completed ? at : null, owner.orgId, owner.userId, opts.provisioner ?? 'echo', fileId, JSON.stringify(opts.tags ?? { scope: 'organization' })],
  );
  return id;
}

export async function jobRow(pool: Pool, id: string) {
  const { rows } = await pool.query('SELECT * FROM provisioner_jobs WHERE id = $1', [id]);
  return rows[0] as {
    id: string;
    started_at: Date | null;
    completed_at: Date | null;
    canceled_at: Date | null;
    updated_at: Date;
    error: string | null;
    worker_id: string | null;
    logs_length: number;
    logs_overflowed: boolean;
    last_log_id: number;
  };
}

export async function jobLogs(pool: Pool, jobId: string) {
  const { rows } = await pool.query('SELECT id, source, level, stage, output FROM provisioner_job_logs WHERE job_id = $1 ORDER BY id', [jobId]);
  return rows as { id: number; source: string; level: string; stage: string; output: string }[];
}

export async function buildRow(pool: Pool, id: string) {
  const { rows } = await pool.query('SELECT * FROM workspace_builds WHERE id = $1', [id]);
  return rows[0] as { provisioner_state: Buffer | null; deadline: Date | null; updated_at: Date };
}
