import type { Queryable } from '../../db/pool.js';
import { getBuildViewsByIDs, getWorkspaceViewsByIDs, type BuildView, type WorkspaceView } from '../../db/queries/views.js';
import type { WorkspaceBuildRow } from '../../db/queries/workspaceBuilds.js';
import { getAgentsByResourceIDs, getAppsByAgentIDs, getMetadataByResourceIDs, getResourcesByJobIDs } from '../../db/queries/workspaceResources.js';
import type { WorkspaceRow } from '../../db/queries/workspaces.js';
import type { WorkspaceBuild, WorkspaceResource } from '../../sdk/types/workspaceBuilds.js';
import type { Workspace, WorkspaceHealth } from '../../sdk/types/workspaces.js';
import type { ServerContext } from '../context.js';
import { buildStatus, convertProvisionerJob } from '../convert/provisionerJobs.js';
import { rfc3339 } from '../convert/time.js';
import { agentStatusChangesAt, convertResourceTree, withSubdomainNames } from '../convert/workspaceResources.js';
import { errors } from '../http/errors.js';
import { DAEMON_STALE_MS } from '../provisionerJobs/matched.js';

/** A connected agent that has not refreshed its connection for two update periods counts as disconnected. */
export function agentInactiveMs(ctx: ServerContext): number {
  return Math.max(2_000, 2 * ctx.options.agentConnectionUpdateMs);
}

/** The threshold a view's `matched_provisioners` counts a daemon as available after (seen since then). */
export function daemonsSeenSince(ctx: ServerContext): Date {
  return new Date(ctx.clock.now().getTime() - DAEMON_STALE_MS);
}

/** The resources (with agents, apps, metadata) of many jobs in four queries, whatever the number of jobs. */
export async function loadResourcesForJobs(ctx: ServerContext, db: Queryable, jobIds: string[]): Promise<Map<string, WorkspaceResource[]>> {
  const resources = await getResourcesByJobIDs(db, jobIds);
  const resourceIds = resources.map((r) => r.id);
  const [metadata, agents] = await Promise.all([getMetadataByResourceIDs(db, resourceIds), getAgentsByResourceIDs(db, resourceIds)]);
  const apps = await getAppsByAgentIDs(db, agents.map((a) => a.id));
  return convertResourceTree({ resources, metadata, agents, apps }, ctx.clock.now(), agentInactiveMs(ctx));
}

/**
 * Until when (ms) `assembleBuild(ctx, v)` at `now` stays what it would render later, the rows unchanged: the clock
 * enters a build's wire shape only through its agents' status.
 */
export function renderedUntil(ctx: ServerContext, v: BuildView, now: Date): number {
  const inactiveMs = agentInactiveMs(ctx);
  return v.agents.reduce((until, a) => Math.min(until, agentStatusChangesAt(a, now, inactiveMs)), Infinity);
}

/** A build view (src/db/queries/views.ts) to wire shape: the rows PostgreSQL aggregated, converted as everywhere. */
export function assembleBuild(ctx: ServerContext, v: BuildView): WorkspaceBuild {
  const { build: b, workspace: w, job, owner, initiator, matched } = v;
  const versionName = v.version_name ?? '';
  const wireJob = convertProvisionerJob(job, { templateVersionName: versionName, template: v.template, workspace: w }, v.queue ?? undefined);
  const resources = convertResourceTree(v, ctx.clock.now(), agentInactiveMs(ctx));
  // Coder lists a build's resources in provisioner order here (GET …/resources sorts by name).
  return {
    id: b.id,
    created_at: rfc3339(b.created_at),
    updated_at: rfc3339(b.updated_at),
    workspace_id: w.id,
    workspace_name: w.name,
    workspace_owner_id: w.owner_id,
    workspace_owner_name: owner.username,
    template_version_id: b.template_version_id,
    template_version_name: versionName,
    build_number: b.build_number,
    transition: b.transition,
    initiator_id: b.initiator_id,
    initiator_name: initiator.username,
    job: wireJob,
    deadline: b.deadline ? rfc3339(b.deadline) : null,
    reason: b.reason,
    resources: withSubdomainNames(resources.get(b.job_id) ?? [], w.name, owner.username),
    status: buildStatus(wireJob.status, b.transition),
    daily_cost: b.daily_cost,
    workspace_owner_avatar_url: owner.avatar_url,
    template_version_preset_id: null,
    ...(matched
      ? {
          matched_provisioners: {
            count: matched.count,
            available: matched.available,
            most_recently_seen: matched.most_recently_seen ? rfc3339(matched.most_recently_seen) : null,
          },
        }
      : {}),
  };
}

/**
 * Builds to wire shape, in the order given, read by one statement whatever their number (job, workspace, template,
 * users, version, resources, agents, apps, metadata, queue position and matched daemons aggregated by PostgreSQL, in
 * one snapshot).
 */
export async function renderBuilds(ctx: ServerContext, given: Pick<WorkspaceBuildRow, 'id'>[]): Promise<WorkspaceBuild[]> {
  if (given.length === 0) return [];
  const views = await getBuildViewsByIDs(ctx.pool, given.map((b) => b.id), daemonsSeenSince(ctx));
  if (views.length !== given.length) throw errors.internal('Internal error converting workspace build.');
  return views.map((v) => assembleBuild(ctx, v));
}

/** Coder's workspace health: healthy when every agent of the latest build is. */
export function workspaceHealth(build: WorkspaceBuild): WorkspaceHealth {
  const failing = build.resources.flatMap((r) => r.agents ?? []).filter((a) => !a.health.healthy).map((a) => a.id);
  return { healthy: failing.length === 0, failing_agents: failing };
}

/** A workspace view to wire shape, with its latest build. */
export function assembleWorkspace(ctx: ServerContext, v: WorkspaceView): Workspace {
  const { workspace: w, template: t, owner } = v;
  const build = assembleBuild(ctx, v);
  return {
    id: w.id,
    created_at: rfc3339(w.created_at),
    updated_at: rfc3339(w.updated_at),
    owner_id: w.owner_id,
    owner_name: owner.username,
    organization_id: w.organization_id,
    template_id: w.template_id,
    template_name: t.name,
    template_display_name: t.display_name,
    template_icon: t.icon,
    template_allow_user_cancel_workspace_jobs: t.allow_user_cancel_workspace_jobs,
    latest_build: build,
    outdated: build.template_version_id !== t.active_version_id,
    name: w.name,
    autostart_schedule: w.autostart_schedule ?? undefined,
    ttl_ms: w.ttl_ms ?? undefined,
    last_used_at: rfc3339(w.last_used_at),
    deleted: w.deleted,
    owner_avatar_url: owner.avatar_url,
    organization_name: v.organization_name ?? '',
    template_active_version_id: t.active_version_id,
    template_require_active_version: false,
    health: workspaceHealth(build),
    automatic_updates: 'never',
    // kiln serves PATCH /workspaces/{id} for renames.
    allow_renames: true,
    favorite: false,
    deleting_at: null,
    dormant_at: null,
    next_start_at: null,
    latest_app_status: null,
    is_prebuild: false,
    template_use_classic_parameter_flow: false,
  };
}

/** Workspaces to wire shape, each with its latest build, read by one statement. */
export async function renderWorkspaces(ctx: ServerContext, workspaces: Pick<WorkspaceRow, 'id'>[]): Promise<Workspace[]> {
  if (workspaces.length === 0) return [];
  const views = await getWorkspaceViewsByIDs(ctx.pool, workspaces.map((w) => w.id), daemonsSeenSince(ctx));
  if (views.length !== workspaces.length) throw errors.internal('Internal error converting workspace.');
  return views.map((v) => assembleWorkspace(ctx, v));
}
