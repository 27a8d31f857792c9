import type { Queryable } from '../../db/pool.js';
import { getMembershipsByUsers, getOrganizationsByIDs } from '../../db/queries/organizations.js';
import { getProvisionerJobsByIDs, getQueuePositions } from '../../db/queries/provisionerJobs.js';
import {
  getTemplateBuildTimeStats,
  getTemplatesByIDs,
  getWorkspaceOwnerCountsByTemplateIDs,
  type TemplateRow,
  type TemplateVersionRow,
} from '../../db/queries/templates.js';
import { getUsersByIDs } from '../../db/queries/users.js';
import type { Template, TemplateVersion, TransitionStats } from '../../sdk/types/templates.js';
import type { ServerContext } from '../context.js';
import { convertProvisionerJob } from '../convert/provisionerJobs.js';
import { convertTemplate, convertTemplateVersion, type TemplateExtras } from '../convert/templates.js';
import { convertUser } from '../convert/users.js';
import { errors } from '../http/errors.js';
import { matchedProvisionersFor } from '../provisionerJobs/matched.js';

/** Build-time percentiles look at the last 30 days, so a template's slow past does not hide how it builds today. */
const BUILD_STATS_WINDOW_MS = 30 * 24 * 3600_000;

/** Templates to wire shape, with creators, owner counts and build-time stats loaded in one query each. */
export async function renderTemplates(ctx: ServerContext, db: Queryable, templates: TemplateRow[]): Promise<Template[]> {
  if (templates.length === 0) return [];
  const ids = templates.map((t) => t.id);
  const [creators, ownerCounts, stats, orgs] = await Promise.all([
    getUsersByIDs(db, [...new Set(templates.map((t) => t.created_by))]),
    getWorkspaceOwnerCountsByTemplateIDs(db, ids),
    getTemplateBuildTimeStats(db, ids, new Date(ctx.clock.now().getTime() - BUILD_STATS_WINDOW_MS)),
    getOrganizationsByIDs(db, [...new Set(templates.map((t) => t.organization_id))]),
  ]);
  const orgName = new Map(orgs.map((o) => [o.id, o.name]));
  const creatorName = new Map(creators.map((u) => [u.id, u.username]));
  const statsByTemplate = new Map<string, TemplateExtras['buildTimeStats']>();
  for (const r of stats) {
    const entry = statsByTemplate.get(r.template_id) ?? {};
    entry[r.transition] = { P50: r.p50_ms, P95: r.p95_ms } satisfies TransitionStats;
    statsByTemplate.set(r.template_id, entry);
  }
  return templates.map((t) => {
    const name = creatorName.get(t.created_by);
    if (name === undefined) throw errors.internal('Internal error fetching creator name.');
    return convertTemplate(t, { createdByName: name, organizationName: orgName.get(t.organization_id) ?? '', workspaceOwnerCount: ownerCounts.get(t.id) ?? 0, buildTimeStats: statsByTemplate.get(t.id) ?? {} });
  });
}

export async function renderTemplate(ctx: ServerContext, db: Queryable, t: TemplateRow): Promise<Template> {
  return (await renderTemplates(ctx, db, [t]))[0] as Template;
}

/** Versions to wire shape: each with its import job (queue position while pending) and its creator, batched. */
export async function renderTemplateVersions(db: Queryable, versions: TemplateVersionRow[], now: Date = new Date()): Promise<TemplateVersion[]> {
  if (versions.length === 0) return [];
  const userIds = [...new Set(versions.map((v) => v.created_by))];
  const templateIds = [...new Set(versions.map((v) => v.template_id).filter((id): id is string => !!id))];
  const [jobs, users, memberships, templates] = await Promise.all([
    getProvisionerJobsByIDs(db, versions.map((v) => v.job_id)),
    getUsersByIDs(db, userIds),
    getMembershipsByUsers(db, userIds),
    getTemplatesByIDs(db, templateIds),
  ]);
  const templateById = new Map(templates.map((t) => [t.id, t]));
  const pending = jobs.filter((j) => !j.started_at && !j.completed_at && !j.canceled_at).map((j) => j.id);
  const [queue, matched] = await Promise.all([getQueuePositions(db, pending), matchedProvisionersFor(db, jobs.map((j) => j.id), now)]);
  const jobById = new Map(jobs.map((j) => [j.id, j]));
  const userById = new Map(users.map((u) => [u.id, u]));
  return versions.map((v) => {
    const job = jobById.get(v.job_id);
    if (!job) throw errors.internal('Internal error fetching provisioner job.');
    const user = userById.get(v.created_by);
    if (!user) throw errors.internal('Internal error on fetching user.');
    const orgIds = memberships.filter((m) => m.user_id === user.id).map((m) => m.organization_id);
    const names = { templateVersionName: v.name, template: v.template_id ? templateById.get(v.template_id) : undefined };
    const out = convertTemplateVersion(v, convertProvisionerJob(job, names, queue.get(job.id)), convertUser(user, orgIds));
    const m = matched.get(job.id);
    return m ? { ...out, matched_provisioners: m } : out;
  });
}

export async function renderTemplateVersion(db: Queryable, v: TemplateVersionRow, now?: Date): Promise<TemplateVersion> {
  return (await renderTemplateVersions(db, [v], now))[0] as TemplateVersion;
}
