import type { Queryable } from '../../db/pool.js';
import { getOrganizationsByIDs } from '../../db/queries/organizations.js';
import { getProvisionerJobsByIDs, getQueuePositions } from '../../db/queries/provisionerJobs.js';
import { getTemplatesByIDs, getTemplateVersionsByIDs } from '../../db/queries/templates.js';
import { getUsersByIDs } from '../../db/queries/users.js';
import { getLatestWorkspaceBuilds, getWorkspaceBuildsByIDs, type WorkspaceBuildRow } from '../../db/queries/workspaceBuilds.js';
import { getAgentsByResourceIDs, getAppsByAgentIDs, getMetadataByResourceIDs, getResourcesByJobIDs } from '../../db/queries/workspaceResources.js';
import { getWorkspacesByIDs, type WorkspaceRow } from '../../db/queries/workspaces.js';
import type { WorkspaceBuild, WorkspaceResource } from '../../sdk/types/workspaceBuilds.js';
import type { Workspace, WorkspaceHealth } from '../../sdk/types/workspaces.js';
import type { ServerContext } from '../context.js';
import { buildStatus, convertProvisionerJob } from '../convert/provisionerJobs.js';
import { rfc3339 } from '../convert/time.js';
import { convertResourceTree, withSubdomainNames } from '../convert/workspaceResources.js';
import { errors } from '../http/errors.js';
import { matchedProvisionersFor } from '../provisionerJobs/matched.js';

/** A connected agent that has not refreshed its connection for two update periods counts as disconnected. */
export function agentInactiveMs(ctx: ServerContext): number {
  return Math.max(2_000, 2 * ctx.options.agentConnectionUpdateMs);
}

/** The resources (with agents, apps, metadata) of many jobs in four queries, whatever the number of jobs. */
export async function loadResourcesForJobs(ctx: ServerContext, db: Queryable, jobIds: string[]): Promise<Map<string, WorkspaceResource[]>> {
  const resources = await getResourcesByJobIDs(db, jobIds);
  const resourceIds = resources.map((r) => r.id);
  const [metadata, agents] = await Promise.all([getMetadataByResourceIDs(db, resourceIds), getAgentsByResourceIDs(db, resourceIds)]);
  const apps = await getAppsByAgentIDs(db, agents.map((a) => a.id));
  return convertResourceTree({ resources, metadata, agents, apps }, ctx.clock.now(), agentInactiveMs(ctx));
}

function byId<T extends { id: string }>(rows: T[]): Map<string, T> {
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Builds to wire shape, with everything they embed loaded in one batch per table (no N+1). `workspaces` may be
 * passed when the caller has them already.
 */
export async function renderBuilds(ctx: ServerContext, given: WorkspaceBuildRow[], known: WorkspaceRow[] = []): Promise<WorkspaceBuild[]> {
  if (given.length === 0) return [];
  const db = ctx.pool;
  const wsKnown = byId(known);
  const missingWs = [...new Set(given.map((b) => b.workspace_id))].filter((id) => !wsKnown.has(id));
  const jobIds = given.map((b) => b.job_id);
  // Jobs first, then the builds again and what the job produced: a job that completed committed its build's state,
  // deadline and resources in the same transaction, so rows read after the job can never be older than it.
  const jobs = await getProvisionerJobsByIDs(db, jobIds);
  const [moreWs, freshBuilds, versions, resources] = await Promise.all([
    getWorkspacesByIDs(db, missingWs),
    getWorkspaceBuildsByIDs(db, given.map((b) => b.id)),
    getTemplateVersionsByIDs(db, [...new Set(given.map((b) => b.template_version_id))]),
    loadResourcesForJobs(ctx, db, jobIds),
  ]);
  const fresh = byId(freshBuilds);
  const builds = given.map((b) => fresh.get(b.id) ?? b);
  for (const w of moreWs) wsKnown.set(w.id, w);
  const userIds = new Set<string>();
  for (const b of builds) {
    userIds.add(b.initiator_id);
    const w = wsKnown.get(b.workspace_id);
    if (w) userIds.add(w.owner_id);
  }
  const pendingIds = jobs.filter((j) => !j.started_at && !j.completed_at).map((j) => j.id);
  const templateIds = [...new Set([...wsKnown.values()].map((w) => w.template_id))];
  const [users, queue, templates, matched] = await Promise.all([
    getUsersByIDs(db, [...userIds]),
    getQueuePositions(db, pendingIds),
    getTemplatesByIDs(db, templateIds),
    matchedProvisionersFor(db, pendingIds, ctx.clock.now()),
  ]);
  const jobMap = byId(jobs);
  const userMap = byId(users);
  const versionMap = byId(versions);
  const templateMap = byId(templates);
  return builds.map((b) => {
    const w = wsKnown.get(b.workspace_id);
    const job = jobMap.get(b.job_id);
    const owner = w ? userMap.get(w.owner_id) : undefined;
    const initiator = userMap.get(b.initiator_id);
    if (!w || !job || !owner || !initiator) throw errors.internal('Internal error converting workspace build.');
    const versionName = versionMap.get(b.template_version_id)?.name ?? '';
    const names = { templateVersionName: versionName, template: templateMap.get(w.template_id), workspace: w };
    const wireJob = convertProvisionerJob(job, names, queue.get(job.id));
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
      ...(matched.has(job.id) ? { matched_provisioners: matched.get(job.id) } : {}),
    };
  });
}

/** Coder's workspace health: healthy when every agent of the latest build is. */
export function workspaceHealth(build: WorkspaceBuild): WorkspaceHealth {
  const failing = build.resources.flatMap((r) => r.agents ?? []).filter((a) => !a.health.healthy).map((a) => a.id);
  return { healthy: failing.length === 0, failing_agents: failing };
}

/** Workspaces to wire shape, each with its latest build, in a fixed number of queries. */
export async function renderWorkspaces(ctx: ServerContext, workspaces: WorkspaceRow[]): Promise<Workspace[]> {
  if (workspaces.length === 0) return [];
  const db = ctx.pool;
  const [latest, templates, owners, orgs] = await Promise.all([
    getLatestWorkspaceBuilds(db, workspaces.map((w) => w.id)),
    getTemplatesByIDs(db, [...new Set(workspaces.map((w) => w.template_id))]),
    getUsersByIDs(db, [...new Set(workspaces.map((w) => w.owner_id))]),
    getOrganizationsByIDs(db, [...new Set(workspaces.map((w) => w.organization_id))]),
  ]);
  const orgName = new Map(orgs.map((o) => [o.id, o.name]));
  const rendered = byId(await renderBuilds(ctx, latest, workspaces));
  const latestByWs = new Map(latest.map((b) => [b.workspace_id, b.id]));
  const tpl = byId(templates);
  const own = byId(owners);
  return workspaces.map((w) => {
    const build = rendered.get(latestByWs.get(w.id) ?? '');
    const t = tpl.get(w.template_id);
    const owner = own.get(w.owner_id);
    if (!build || !t || !owner) throw errors.internal('Internal error converting workspace.');
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
      organization_name: orgName.get(w.organization_id) ?? '',
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
  });
}
