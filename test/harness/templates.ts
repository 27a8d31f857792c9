import assert from 'node:assert/strict';

import type { KilnClient } from '../../src/sdk/client.js';
import { createTar } from '../../src/sdk/tar.js';
import type { Template, TemplateVersion } from '../../src/sdk/types/templates.js';
import type { WorkspaceBuild, WorkspaceStatus } from '../../src/sdk/types/workspaceBuilds.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';

import { waitFor } from './wait.js';

let n = 0;

/** Uploads an echo script (see docs/templates or spec: echo.json) as a new template version and waits for its import. */
export async function createEchoVersion(client: KilnClient, orgId: string, echo: unknown, opts: { templateId?: string; wait?: boolean } = {}): Promise<TemplateVersion> {
  const { hash } = await client.upload(createTar({ 'echo.json': JSON.stringify(echo) }));
  const v = await client.createTemplateVersion(orgId, { storage_method: 'file', file_id: hash, provisioner: 'echo', template_id: opts.templateId });
  if (opts.wait === false) return v;
  return waitFor(async () => {
    const cur = await client.templateVersion(v.id);
    return ['succeeded', 'failed', 'canceled'].includes(cur.job.status) ? cur : undefined;
  }, `import of template version ${v.id}`);
}

/** A template whose builds replay `echo` (start/stop/delete scripts). */
export async function createEchoTemplate(
  client: KilnClient,
  orgId: string,
  echo: unknown = {},
  opts: { name?: string; allowUserCancel?: boolean; defaultTtlMs?: number } = {},
): Promise<{ template: Template; version: TemplateVersion }> {
  const version = await createEchoVersion(client, orgId, echo);
  assert.equal(version.job.status, 'succeeded', `import failed: ${version.job.error ?? ''}`);
  const template = await client.createTemplate(orgId, {
    name: opts.name ?? `tpl-${++n}-${Math.random().toString(36).slice(2, 7)}`,
    template_version_id: version.id,
    allow_user_cancel_workspace_jobs: opts.allowUserCancel,
    default_ttl_ms: opts.defaultTtlMs,
  });
  return { template, version };
}

export async function createWorkspace(client: KilnClient, orgId: string, templateId: string, name?: string, user = 'me'): Promise<Workspace> {
  return client.createWorkspace(orgId, user, { template_id: templateId, name: name ?? `ws-${++n}-${Math.random().toString(36).slice(2, 7)}` });
}

const TERMINAL: WorkspaceStatus[] = ['running', 'stopped', 'deleted', 'failed', 'canceled'];

/** Waits until the build reaches one of `statuses` (default: any terminal status). */
export async function waitForBuild(client: KilnClient, buildId: string, statuses: WorkspaceStatus[] = TERMINAL, timeoutMs = 15_000): Promise<WorkspaceBuild> {
  return waitFor(async () => {
    const b = await client.workspaceBuild(buildId);
    return statuses.includes(b.status) ? b : undefined;
  }, `build ${buildId} to reach ${statuses.join('/')}`, timeoutMs);
}
