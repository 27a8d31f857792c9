import { randomUUID } from 'node:crypto';

import type { Queryable } from '../db/pool.js';
import {
  insertWorkspaceAgent,
  insertWorkspaceApp,
  insertWorkspaceResource,
  insertWorkspaceResourceMetadata,
} from '../db/queries/workspaceResources.js';
import type { ProvisionedAgent, ProvisionedApp, ProvisionedResource } from '../sdk/types/provisionerd.js';
import { isUuid } from '../sdk/uuid.js';

/** Coder's app slug rule (reference §4.6). */
export const APP_SLUG_REGEX = /^[a-z0-9](-?[a-z0-9])*$/;
const SHARING = new Set(['owner', 'authenticated', 'public']);

/** What a provisioner reported that cannot be stored; the job fails with this message. */
export class InvalidResourcesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidResourcesError';
  }
}

/**
 * Checks a whole report before anything is written (reference §7.10.1), so an invalid report fails the job without
 * half-written rows. Agent names are unique per build, app slugs per agent, metadata keys per resource.
 */
export function validateResources(resources: ProvisionedResource[]): void {
  const fail = (msg: string): never => {
    throw new InvalidResourcesError(msg);
  };
  if (!Array.isArray(resources)) fail('resources must be a list');
  const agentNames = new Set<string>();
  const tokens = new Set<string>();
  resources.forEach((r, i) => {
    if (typeof r?.name !== 'string' || r.name === '') fail(`resource #${i + 1} has no name`);
    if (typeof r.type !== 'string' || r.type === '') fail(`resource "${r.name}" has no type`);
    checkInt(r.daily_cost, `resource "${r.name}": daily_cost`, fail);
    const keys = new Set<string>();
    for (const m of r.metadata ?? []) {
      if (typeof m?.key !== 'string' || m.key === '') fail(`resource "${r.name}" has a metadata item without a key`);
      if (keys.has(m.key)) fail(`duplicate metadata key "${m.key}" on resource "${r.name}"`);
      keys.add(m.key);
    }
    for (const a of r.agents ?? []) {
      if (typeof a?.name !== 'string' || a.name === '') fail(`resource "${r.name}" has an agent without a name`);
      if (agentNames.has(a.name)) fail(`duplicate agent name "${a.name}"`);
      agentNames.add(a.name);
      if (a.auth_token !== undefined && a.auth_token !== '') {
        if (typeof a.auth_token !== 'string' || !isUuid(a.auth_token)) fail(`agent "${a.name}": invalid auth token format; must be uuid`);
        const t = a.auth_token.toLowerCase();
        if (tokens.has(t)) fail(`agent "${a.name}": another agent of this build has the same auth token`);
        tokens.add(t);
      }
      checkInt(a.connection_timeout_seconds, `agent "${a.name}": connection_timeout_seconds`, fail);
      checkInt(a.startup_script_timeout_seconds, `agent "${a.name}": startup_script_timeout_seconds`, fail);
      for (const [k, v] of Object.entries(a.environment_variables ?? {})) {
        if (typeof v !== 'string') fail(`agent "${a.name}": environment variable "${k}" must be a string`);
      }
      validateApps(a, fail);
    }
  });
}

function validateApps(a: ProvisionedAgent, fail: (msg: string) => never): void {
  const slugs = new Set<string>();
  for (const app of a.apps ?? []) {
    if (typeof app?.slug !== 'string' || app.slug === '') fail('app must have a slug or name set');
    if (!APP_SLUG_REGEX.test(app.slug)) fail(`app slug "${app.slug}" does not match regex "${APP_SLUG_REGEX.source}"`);
    if (slugs.has(app.slug)) fail(`duplicate app slug, must be unique per template: "${app.slug}"`);
    slugs.add(app.slug);
    if (app.sharing_level !== undefined && !SHARING.has(app.sharing_level)) {
      fail(`app "${app.slug}": sharing_level must be owner, authenticated or public`);
    }
    checkInt(app.healthcheck?.interval, `app "${app.slug}": healthcheck interval`, fail);
    checkInt(app.healthcheck?.threshold, `app "${app.slug}": healthcheck threshold`, fail);
  }
}

function checkInt(v: unknown, what: string, fail: (msg: string) => never): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2_147_483_647) fail(`${what} must be a whole number ≥ 0`);
}

/**
 * Inserts a validated report for a job: resources, their metadata, agents and apps, each with fresh ids and its
 * position in the report as `ordinal` (responses list them in provisioner order).
 */
export async function insertResources(
  tx: Queryable,
  p: { jobId: string; transition: 'start' | 'stop' | 'delete'; now: Date; resources: ProvisionedResource[] },
): Promise<void> {
  for (const [i, r] of p.resources.entries()) {
    const resourceId = randomUUID();
    await insertWorkspaceResource(tx, {
      id: resourceId,
      now: p.now,
      jobId: p.jobId,
      transition: p.transition,
      type: r.type,
      name: r.name,
      hide: r.hide ?? false,
      icon: r.icon ?? '',
      instanceType: r.instance_type || null,
      dailyCost: r.daily_cost ?? 0,
      ordinal: i,
    });
    await insertWorkspaceResourceMetadata(
      tx,
      resourceId,
      (r.metadata ?? []).map((m) => ({ key: m.key, value: m.value ?? null, sensitive: m.sensitive ?? false })),
    );
    for (const [j, a] of (r.agents ?? []).entries()) await insertAgent(tx, resourceId, a, j, p.now);
  }
}

async function insertAgent(tx: Queryable, resourceId: string, a: ProvisionedAgent, ordinal: number, now: Date): Promise<void> {
  const agentId = randomUUID();
  await insertWorkspaceAgent(tx, {
    id: agentId,
    now,
    resourceId,
    name: a.name,
    // The template's token is used as given: the agent already received it (through Terraform, or the script).
    authToken: a.auth_token ? a.auth_token.toLowerCase() : randomUUID(),
    authInstanceId: a.auth_instance_id || null,
    architecture: a.architecture ?? '',
    operatingSystem: a.operating_system ?? '',
    environmentVariables: a.environment_variables ?? {},
    startupScript: a.startup_script || null,
    startupScriptTimeoutSeconds: a.startup_script_timeout_seconds ?? 0,
    shutdownScript: a.shutdown_script || null,
    directory: a.directory ?? '',
    connectionTimeoutSeconds: a.connection_timeout_seconds ?? 0,
    troubleshootingUrl: a.troubleshooting_url ?? '',
    ordinal,
  });
  for (const [k, app] of (a.apps ?? []).entries()) await insertApp(tx, agentId, app, k, now);
}

async function insertApp(tx: Queryable, agentId: string, app: ProvisionedApp, ordinal: number, now: Date): Promise<void> {
  const healthUrl = app.healthcheck?.url ?? '';
  await insertWorkspaceApp(tx, {
    id: randomUUID(),
    now,
    agentId,
    slug: app.slug,
    displayName: app.display_name ?? '',
    icon: app.icon ?? '',
    command: app.command || null,
    url: app.url || null,
    healthcheckUrl: healthUrl,
    healthcheckInterval: app.healthcheck?.interval ?? 0,
    healthcheckThreshold: app.healthcheck?.threshold ?? 0,
    // Apps with a health check start `initializing` until the agent reports; the others are never checked.
    health: healthUrl ? 'initializing' : 'disabled',
    subdomain: app.subdomain ?? false,
    sharingLevel: app.sharing_level ?? 'owner',
    external: app.external ?? false,
    ordinal,
  });
}
