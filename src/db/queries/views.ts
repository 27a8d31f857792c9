import type { Queryable } from '../pool.js';

import type { ProvisionerJobRow } from './provisionerJobs.js';
import type { TemplateRow } from './templates.js';
import type { UserRow } from './users.js';
import type { WorkspaceBuildRow } from './workspaceBuilds.js';
import type { WorkspaceAgentRow, WorkspaceAppRow, WorkspaceResourceMetadataRow, WorkspaceResourceRow } from './workspaceResources.js';
import type { WorkspaceRow } from './workspaces.js';

/**
 * Builds and workspaces with everything their wire shape embeds, each read by ONE statement: PostgreSQL aggregates the
 * rows into JSON (one round trip, one snapshot), and `revive` turns them back into the same row types the other
 * queries return, so the row → wire conversion (src/api/convert, src/api/builds/render.ts) stays the same.
 */

export interface BuildView {
  build: WorkspaceBuildRow;
  workspace: WorkspaceRow;
  /** The workspace's template (a job's metadata names it). */
  template: TemplateRow;
  job: ProvisionerJobRow;
  owner: UserRow;
  initiator: UserRow;
  version_name: string | null;
  /** Set for a pending job: its place among pending jobs of the same provisioner and tags. */
  queue: { position: number; size: number } | null;
  /** Set for a job not yet started: the daemons that could take it (`available`: seen since the view's threshold). */
  matched: { count: number; available: number; most_recently_seen: Date | null } | null;
  resources: WorkspaceResourceRow[];
  metadata: WorkspaceResourceMetadataRow[];
  agents: WorkspaceAgentRow[];
  apps: WorkspaceAppRow[];
}

export interface WorkspaceView extends BuildView {
  organization_name: string | null;
}

/** Columns that are timestamps: JSON carries them as strings, the row types as Dates. */
const TIMESTAMPS = new Set([
  'created_at', 'updated_at', 'started_at', 'canceled_at', 'completed_at', 'deadline', 'last_used_at', 'last_seen_at',
  'first_connected_at', 'last_connected_at', 'disconnected_at', 'expires_at', 'last_used', 'most_recently_seen',
]);

/** A row PostgreSQL sent as JSON (to_jsonb), with its timestamps back as Dates: the row type the plain query gives. */
export function revive<T>(row: Record<string, unknown>): T {
  for (const k in row) {
    const v = row[k];
    if (typeof v === 'string' && TIMESTAMPS.has(k)) row[k] = new Date(v);
  }
  return row as T;
}

type Raw = Record<string, unknown>;

export function reviveBuildView(r: Raw): BuildView {
  const build = revive<WorkspaceBuildRow>(r.build as Raw);
  build.provisioner_state = null;
  return {
    build,
    workspace: revive<WorkspaceRow>(r.workspace as Raw),
    template: revive<TemplateRow>(r.template as Raw),
    job: revive<ProvisionerJobRow>(r.job as Raw),
    owner: revive<UserRow>(r.owner as Raw),
    initiator: revive<UserRow>(r.initiator as Raw),
    version_name: (r.version_name as string | null) ?? null,
    queue: (r.queue as BuildView['queue']) ?? null,
    matched: r.matched ? revive<NonNullable<BuildView['matched']>>(r.matched as Raw) : null,
    resources: (r.resources as Raw[]).map((x) => revive<WorkspaceResourceRow>(x)),
    metadata: r.metadata as WorkspaceResourceMetadataRow[],
    agents: (r.agents as Raw[]).map((x) => revive<WorkspaceAgentRow>(x)),
    apps: (r.apps as Raw[]).map((x) => revive<WorkspaceAppRow>(x)),
  };
}

const PENDING = (t: string) => `${t}.started_at IS NULL AND ${t}.completed_at IS NULL AND ${t}.canceled_at IS NULL`;

/** A build view's resources, their metadata, agents and apps, each a JSON list. */
const RESOURCE_LISTS = `
  (SELECT coalesce(json_agg(r ORDER BY r.ordinal, r.created_at), '[]') FROM workspace_resources r WHERE r.job_id = j.id) AS resources,
  (SELECT coalesce(json_agg(m ORDER BY m.id), '[]') FROM workspace_resource_metadata m JOIN workspace_resources r ON r.id = m.workspace_resource_id
    WHERE r.job_id = j.id) AS metadata,
  (SELECT coalesce(json_agg(a ORDER BY a.ordinal, a.name), '[]') FROM workspace_agents a JOIN workspace_resources r ON r.id = a.resource_id
    WHERE r.job_id = j.id) AS agents,
  (SELECT coalesce(json_agg(p ORDER BY p.ordinal, p.slug), '[]') FROM workspace_apps p JOIN workspace_agents a ON a.id = p.agent_id
    JOIN workspace_resources r ON r.id = a.resource_id WHERE r.job_id = j.id) AS apps`;

/**
 * The columns of a build view of the build `b` (a relation in the FROM clause), with the joins they need. Users lose
 * their password hash, builds their state (large, and read only by the state endpoint and the daemon). `seenSince` is
 * the placeholder of the threshold a matched daemon counts as available after (src/api/provisionerJobs/matched.ts).
 * `jobUnseen`: the pending job `j` is being inserted by the same statement, so its own snapshot cannot count it in
 * its queue; it is added. Such a job has no resources yet: their four lists are empty without a look.
 */
export const buildViewColumns = (seenSince: string, jobUnseen = false) => `
  to_jsonb(b) - 'provisioner_state' AS build,
  to_jsonb(bw) AS workspace,
  to_jsonb(bt) AS template,
  to_jsonb(j) AS job,
  to_jsonb(o) - 'hashed_password' AS owner,
  to_jsonb(i) - 'hashed_password' AS initiator,
  v.name AS version_name,
  CASE WHEN ${PENDING('j')} THEN (
    SELECT json_build_object('position', count(*) FILTER (WHERE (q.created_at, q.id) <= (j.created_at, j.id)) + ${jobUnseen ? 1 : 0},
                             'size', count(*) + ${jobUnseen ? 1 : 0})
    FROM provisioner_jobs q WHERE ${PENDING('q')} AND q.provisioner = j.provisioner AND q.tags = j.tags
  ) END AS queue,
  CASE WHEN j.started_at IS NULL AND j.completed_at IS NULL THEN (
    SELECT json_build_object('count', count(d.id), 'available', count(d.id) FILTER (WHERE d.last_seen_at > ${seenSince}::timestamptz),
                             'most_recently_seen', max(d.last_seen_at))
    FROM provisioner_daemons d WHERE j.provisioner = ANY(d.provisioners) AND j.tags <@ d.tags
      AND (d.organization_id IS NULL OR d.organization_id = j.organization_id)
  ) END AS matched,
  ${jobUnseen ? `'[]'::json AS resources, '[]'::json AS metadata, '[]'::json AS agents, '[]'::json AS apps` : RESOURCE_LISTS}`;


/** What a build view joins besides its build `b` and job `j`. */
export const BUILD_VIEW_OTHER_JOINS = `
  JOIN workspaces bw ON bw.id = b.workspace_id
  JOIN templates bt ON bt.id = bw.template_id
  JOIN users o ON o.id = bw.owner_id
  JOIN users i ON i.id = b.initiator_id
  LEFT JOIN template_versions v ON v.id = b.template_version_id`;

const BUILD_VIEW_JOINS = `
  JOIN provisioner_jobs j ON j.id = b.job_id ${BUILD_VIEW_OTHER_JOINS}`;

export async function getBuildViewByID(db: Queryable, id: string, seenSince: Date): Promise<BuildView | undefined> {
  const { rows } = await db.query<Raw>({
    name: 'kiln_build_view_by_id',
    text: `SELECT ${buildViewColumns('$2')} FROM workspace_builds b ${BUILD_VIEW_JOINS} WHERE b.id = $1`,
    values: [id, seenSince],
  });
  return rows[0] ? reviveBuildView(rows[0]) : undefined;
}

/** Several builds in one statement; one build by `getBuildViewByID` (why: getWorkspaceViewsByIDs). */
export async function getBuildViewsByIDs(db: Queryable, ids: string[], seenSince: Date): Promise<BuildView[]> {
  if (ids.length === 0) return [];
  if (ids.length === 1) {
    const one = await getBuildViewByID(db, ids[0]!, seenSince);
    return one ? [one] : [];
  }
  const { rows } = await db.query<Raw>({
    name: 'kiln_build_views_by_ids',
    text: `SELECT ${buildViewColumns('$2')} FROM workspace_builds b ${BUILD_VIEW_JOINS} WHERE b.id = ANY($1::uuid[])`,
    values: [ids, seenSince],
  });
  const byId = new Map(rows.map((r) => { const v = reviveBuildView(r); return [v.build.id, v] as const; }));
  return ids.map((id) => byId.get(id)).filter((v): v is BuildView => v !== undefined);
}

export interface BuildListParams {
  workspaceId: string;
  since?: Date;
  afterId?: string;
  offset: number;
  limit?: number;
  /** Daemons seen since then count as available. */
  seenSince: Date;
}

/**
 * A page of a workspace's builds, newest first (Coder's order, even with an `after_id` cursor), paged in SQL, with the
 * workspace itself (undefined: no such workspace) and whether the `after_id` cursor exists (the caller refuses a
 * cursor that does not). The filters are written as plain bounds, never `$n IS NULL OR …`: a prepared statement's
 * generic plan can then walk the (workspace_id, build_number) index newest first and stop after the page, instead of
 * sorting every build of the workspace.
 */
export async function listBuildViews(db: Queryable, p: BuildListParams): Promise<{ workspace?: WorkspaceRow; afterFound: boolean; builds: BuildView[] }> {
  const { rows } = await db.query<Raw>({
    name: 'kiln_build_views_page',
    text: `WITH ws AS (SELECT * FROM workspaces WHERE id = $1),
       cursor AS (SELECT build_number FROM workspace_builds WHERE id = $3::uuid),
       page AS (
         SELECT b.* FROM workspace_builds b
         WHERE b.workspace_id = $1 AND b.build_number > coalesce((SELECT build_number FROM cursor), 0)
           AND b.created_at > coalesce($2::timestamptz, '-infinity')
         ORDER BY b.build_number DESC OFFSET $4 LIMIT $5),
       views AS (SELECT b.build_number, ${buildViewColumns('$6')} FROM page b ${BUILD_VIEW_JOINS})
     SELECT (SELECT to_jsonb(ws) FROM ws) AS workspace, EXISTS (SELECT 1 FROM cursor) AS after_found,
       (SELECT coalesce(json_agg(views ORDER BY views.build_number DESC), '[]') FROM views) AS builds`,
    values: [p.workspaceId, p.since ?? null, p.afterId ?? null, p.offset, p.limit ?? null, p.seenSince],
  });
  const r = rows[0] as Raw;
  return {
    workspace: r.workspace ? revive<WorkspaceRow>(r.workspace as Raw) : undefined,
    afterFound: r.after_found as boolean,
    builds: (r.builds as Raw[]).map(reviveBuildView),
  };
}

/** The workspace view over `pw` (a workspaces relation): its organization's name and its latest build. */
const WORKSPACE_VIEW_COLUMNS = (seenSince: string) =>
  `(SELECT name FROM organizations og WHERE og.id = pw.organization_id) AS organization_name, ${buildViewColumns(seenSince)}`;
const WORKSPACE_VIEW_FROM = `
  JOIN LATERAL (SELECT * FROM workspace_builds lb WHERE lb.workspace_id = pw.id ORDER BY lb.build_number DESC LIMIT 1) b ON true
  ${BUILD_VIEW_JOINS}`;

function reviveWorkspaceView(r: Raw): WorkspaceView {
  return { ...reviveBuildView(r), organization_name: (r.organization_name as string | null) ?? null };
}

export async function getWorkspaceViewsByIDs(db: Queryable, ids: string[], seenSince: Date): Promise<WorkspaceView[]> {
  if (ids.length === 0) return [];
  // One id gets its own statement: a prepared statement's generic plan guesses ten rows for `= ANY($1)`, and on
  // tables whose statistics are young that guess picks hash joins over sequential scans (a build view for one POST
  // cost 1.8 ms instead of 0.6); `= $1` is planned for one row.
  const one = ids.length === 1;
  const { rows } = await db.query<Raw>({
    name: one ? 'kiln_workspace_view_by_id' : 'kiln_workspace_views_by_ids',
    text: `SELECT ${WORKSPACE_VIEW_COLUMNS('$2')} FROM workspaces pw ${WORKSPACE_VIEW_FROM} WHERE ${one ? 'pw.id = $1' : 'pw.id = ANY($1::uuid[])'}`,
    values: [one ? ids[0] : ids, seenSince],
  });
  const byId = new Map(rows.map((r) => { const v = reviveWorkspaceView(r); return [v.workspace.id, v] as const; }));
  return ids.map((id) => byId.get(id)).filter((v): v is WorkspaceView => v !== undefined);
}

/** A build's status (reference §3.1/§3.2, as src/api/convert/provisionerJobs.ts computes it), for filtering in SQL. */
const JOB_FAILED = `coalesce(j.error, '') <> ''`;
const BUILD_STATUS = `CASE
  WHEN j.canceled_at IS NOT NULL THEN CASE WHEN j.completed_at IS NULL THEN 'canceling' WHEN ${JOB_FAILED} THEN 'failed' ELSE 'canceled' END
  WHEN j.completed_at IS NOT NULL AND ${JOB_FAILED} THEN 'failed'
  WHEN j.started_at IS NULL AND j.completed_at IS NULL THEN 'pending'
  WHEN j.completed_at IS NULL THEN CASE b.transition WHEN 'start' THEN 'starting' WHEN 'stop' THEN 'stopping' ELSE 'deleting' END
  ELSE CASE b.transition WHEN 'start' THEN 'running' WHEN 'stop' THEN 'stopped' ELSE 'deleted' END
END`;

export interface WorkspaceListFilter {
  /** Only these owners' workspaces (visibility and `owner:`). */
  ownerIds?: string[];
  /** `owner:<username>`, matched case-insensitively. */
  ownerUsername?: string;
  templateNames?: string[];
  name?: string;
  /** The latest build's status. */
  status?: string;
  offset: number;
  /** 0: no limit. */
  limit: number;
  /** Daemons seen since then count as available. */
  seenSince: Date;
}

/** The count of live workspaces `listWorkspaceViews` matches without a join: kept per owner, unless a name filters. */
const KEPT_COUNT = `CASE WHEN $4::text IS NULL
    THEN (SELECT coalesce(sum(c.live), 0) FROM workspace_counts c WHERE $1::uuid[] IS NULL OR c.owner_id = ANY($1::uuid[]))
    ELSE (SELECT count(*) FROM matching) END`;

/** Live workspaces matching the filter, newest first, one page of them rendered, and how many match in all. */
export async function listWorkspaceViews(db: Queryable, f: WorkspaceListFilter): Promise<{ count: number; workspaces: WorkspaceView[] }> {
  // Only the joins a filter needs: without any, the page reads the live-workspaces index newest first and stops after
  // `limit` rows (migration 000092), and the count is the owners' counts kept by migration 000096's triggers (all
  // owners', or the listed owners'); a name filter counts the matching rows. With a status filter the latest build is
  // read for every candidate.
  const joins = [
    f.templateNames ? 'JOIN templates tt ON tt.id = w.template_id' : '',
    f.ownerUsername ? 'JOIN users ou ON ou.id = w.owner_id' : '',
    f.status
      ? `JOIN LATERAL (SELECT lb.transition, lb.job_id FROM workspace_builds lb WHERE lb.workspace_id = w.id ORDER BY lb.build_number DESC LIMIT 1) b ON true
         JOIN provisioner_jobs j ON j.id = b.job_id`
      : '',
  ].join(' ');
  const variant = `${f.templateNames ? 't' : ''}${f.ownerUsername ? 'u' : ''}${f.status ? 's' : ''}`;
  const { rows } = await db.query<Raw>({
    name: `kiln_workspace_views_page${variant ? `_${variant}` : ''}`,
    text: `WITH matching AS NOT MATERIALIZED (
         SELECT w.* FROM workspaces w ${joins}
         WHERE NOT w.deleted
           AND ($1::uuid[] IS NULL OR w.owner_id = ANY($1::uuid[]))
           ${f.ownerUsername ? 'AND lower(ou.username) = lower($2) AND NOT ou.deleted' : 'AND $2::text IS NULL'}
           ${f.templateNames ? 'AND lower(tt.name) = ANY($3::text[])' : 'AND $3::text[] IS NULL'}
           AND ($4::text IS NULL OR w.name ILIKE '%' || $4 || '%')
           ${f.status ? `AND ${BUILD_STATUS} = $8` : ''}),
       page AS (SELECT * FROM matching ORDER BY created_at DESC, id OFFSET $5 LIMIT $6)
     SELECT (${variant ? 'SELECT count(*) FROM matching' : KEPT_COUNT})::int AS total,
       (SELECT coalesce(json_agg(views ORDER BY views.ws_created_at DESC, views.ws_id), '[]') FROM (
          SELECT pw.created_at AS ws_created_at, pw.id AS ws_id, ${WORKSPACE_VIEW_COLUMNS('$7')}
          FROM page pw ${WORKSPACE_VIEW_FROM}) views) AS workspaces`,
    values: [
      f.ownerIds ?? null, f.ownerUsername ?? null, f.templateNames?.map((n) => n.toLowerCase()) ?? null, f.name ?? null,
      f.offset, f.limit > 0 ? f.limit : null, f.seenSince, ...(f.status ? [f.status] : []),
    ],
  });
  const r = rows[0] as Raw;
  return { count: r.total as number, workspaces: (r.workspaces as Raw[]).map(reviveWorkspaceView) };
}
