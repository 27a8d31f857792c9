import { timeOrderedUuid } from '../../lib/timeOrderedUuid.js';
import type { Queryable } from '../pool.js';

import type { NameValue, TemplateVersionParameterRow } from './parameters.js';
import { INSERT_JOB, insertJobValues, type InsertProvisionerJobParams, type ProvisionerJobRow } from './provisionerJobs.js';
import type { TemplateRow, TemplateVersionRow } from './templates.js';
import { BUILD_VIEW_OTHER_JOINS, buildViewColumns, revive, reviveBuildView, type BuildView } from './views.js';
import type { InsertWorkspaceBuildParams, WorkspaceBuildRow } from './workspaceBuilds.js';
import type { WorkspaceRow } from './workspaces.js';

/**
 * Build creation in two statements: everything a new build is decided from, read at once (`getBuildSource`), then the
 * job, the build and its parameter values written by one statement (`insertBuildWithJob`). No lock is held in
 * between: the unique (workspace_id, build_number) settles a race, as the workspace row lock did before — the loser's
 * insert fails whole and answers 409, the same answer the lock gave it. A plain build (`createPlainBuild`) tries both
 * in one statement first.
 */

/** A version's rich parameter declarations, in display order (`order`, then name, as Coder sorts them), as JSON. */
export const VERSION_PARAMETERS_JSON = (version: string) => `(SELECT coalesce(json_agg(tp ORDER BY tp.display_order, tp.name), '[]')
  FROM template_version_parameters tp WHERE tp.template_version_id = ${version}.id)`;

export interface BuildSource {
  workspace: WorkspaceRow;
  /** The workspace's latest build (state included: a new build starts from it), its job's timestamps and its values. */
  latest?: {
    build: WorkspaceBuildRow;
    job?: Pick<ProvisionerJobRow, 'started_at' | 'completed_at' | 'canceled_at' | 'error'>;
    parameters: NameValue[];
  };
  /** The version built: the one asked for, else the latest build's (undefined: no such version). */
  version?: TemplateVersionRow;
  template?: TemplateRow;
  importJob?: ProvisionerJobRow;
  /** The version's rich parameter declarations. */
  parameters: TemplateVersionParameterRow[];
}

type Raw = Record<string, unknown>;

/**
 * One statement: the workspace, its latest build with that build's job and parameter values, and the version to build
 * (`versionId`, or else the latest build's) with its template, import job and parameter declarations.
 */
export async function getBuildSource(db: Queryable, workspaceId: string, versionId: string | null): Promise<BuildSource | undefined> {
  const { rows } = await db.query<SourceColumns>({
    name: 'kiln_build_source',
    text: `SELECT ${SOURCE_COLUMNS} ${SOURCE_FROM} WHERE w.id = $1`,
    values: [workspaceId, versionId],
  });
  return rows[0] && sourceFromColumns(rows[0]);
}

/** What `getBuildSource` selects, from `SOURCE_FROM`; `$2` is the version asked for (null: the latest build's). */
const SOURCE_COLUMNS = `to_jsonb(w) AS workspace,
        to_jsonb(lb) - 'provisioner_state' AS latest, lb.provisioner_state AS latest_state,
        CASE WHEN lj.id IS NOT NULL THEN json_build_object('started_at', lj.started_at, 'completed_at', lj.completed_at,
          'canceled_at', lj.canceled_at, 'error', lj.error) END AS latest_job,
        (SELECT json_agg(json_build_object('name', p.name, 'value', p.value) ORDER BY p.name)
           FROM workspace_build_parameters p WHERE p.workspace_build_id = lb.id) AS latest_parameters,
        to_jsonb(v) AS version, to_jsonb(t) AS template, to_jsonb(vj) AS import_job,
        CASE WHEN v.id IS NOT NULL THEN ${VERSION_PARAMETERS_JSON('v')} END AS parameters`;
const SOURCE_FROM = `FROM workspaces w
      LEFT JOIN LATERAL (SELECT * FROM workspace_builds b WHERE b.workspace_id = w.id ORDER BY b.build_number DESC LIMIT 1) lb ON true
      LEFT JOIN provisioner_jobs lj ON lj.id = lb.job_id
      LEFT JOIN template_versions v ON v.id = coalesce($2::uuid, lb.template_version_id)
      LEFT JOIN templates t ON t.id = v.template_id
      LEFT JOIN provisioner_jobs vj ON vj.id = v.job_id`;

interface SourceColumns {
  workspace: Raw; latest: Raw | null; latest_state: Buffer | null; latest_job: Raw | null; latest_parameters: NameValue[] | null;
  version: Raw | null; template: Raw | null; import_job: Raw | null; parameters: TemplateVersionParameterRow[] | null;
}

function sourceFromColumns(r: SourceColumns): BuildSource {
  let latest: BuildSource['latest'];
  if (r.latest) {
    const build = revive<WorkspaceBuildRow>(r.latest);
    build.provisioner_state = r.latest_state;
    latest = {
      build,
      job: r.latest_job ? revive<NonNullable<NonNullable<BuildSource['latest']>['job']>>(r.latest_job) : undefined,
      parameters: r.latest_parameters ?? [],
    };
  }
  return {
    workspace: revive<WorkspaceRow>(r.workspace),
    latest,
    version: r.version ? revive<TemplateVersionRow>(r.version) : undefined,
    template: r.template ? revive<TemplateRow>(r.template) : undefined,
    importJob: r.import_job ? revive<ProvisionerJobRow>(r.import_job) : undefined,
    parameters: r.parameters ?? [],
  };
}

/**
 * The build row's insert inside a build-creating statement, `select` giving id, created_at, updated_at, workspace,
 * version, number, transition, initiator, state, job and reason; it returns the row without its state (large, and
 * read only by the state endpoint and the daemon).
 */
const INSERT_BUILD = (select: string) => `
        INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id,
          provisioner_state, job_id, reason)
        SELECT ${select}
        RETURNING id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id,
          NULL::bytea AS provisioner_state, job_id, deadline, reason, daily_cost`;

/**
 * One statement: the job, the build (with its workspace's), and the build's rich parameter values; it answers with the
 * new build's view (as `getBuildViewByID` reads one), so the response costs no statement of its own. A failure (the
 * unique build number) leaves nothing behind. Nobody is told here: the caller announces the build once it has
 * committed (`announceBuild`, src/api/builds/createBuild.ts). `seenSince`: see `getBuildViewByID`.
 */
export async function insertBuildWithJob(
  db: Queryable,
  job: InsertProvisionerJobParams,
  build: Omit<InsertWorkspaceBuildParams, 'jobId' | 'now'>,
  parameters: readonly NameValue[],
  seenSince: Date,
): Promise<BuildView> {
  const { rows } = await db.query<Record<string, unknown>>({
    name: 'kiln_insert_build_with_job',
    text: `WITH job AS (${INSERT_JOB}),
      build AS (${INSERT_BUILD('$10, $2, $2, $11, $12, $13, $14, $15, $16, job.id, $17 FROM job')}),
      params AS (
        INSERT INTO workspace_build_parameters (workspace_build_id, name, value)
        SELECT build.id, r.name, r.value FROM build, unnest($18::text[], $19::text[]) AS r(name, value))
      SELECT ${buildViewColumns('$20', true)} FROM build b JOIN job j ON j.id = b.job_id ${BUILD_VIEW_OTHER_JOINS}`,
    values: [
      ...insertJobValues(job),
      build.id, build.workspaceId, build.templateVersionId, build.buildNumber, build.transition, build.initiatorId, build.state, build.reason,
      parameters.map((p) => p.name), parameters.map((p) => p.value),
      seenSince,
    ],
  });
  // The view joins the workspace, its template and both users, which the caller just read; none can be gone.
  if (!rows[0]) throw new Error(`build ${build.id}: inserted, but its workspace, template or users were not found`);
  return reviveBuildView(rows[0]);
}

/** `createPlainBuild`'s source columns, sent only when it inserted nothing (the caller then needs them). */
const SOURCE_UNLESS_BUILT = (
  [['workspace', 'src_workspace'], ['latest'], ['latest_state'], ['latest_job'], ['latest_parameters'], ['version'], ['template', 'src_template'], ['import_job'], ['parameters']] as const
).map(([c, as]: readonly string[]) => `CASE WHEN nv.build IS NULL THEN s.${c} END AS ${as ?? c}`).join(', ');

export interface PlainBuildParams {
  workspaceId: string;
  /** The version asked for; null builds the latest build's. */
  versionId: string | null;
  transition: 'start' | 'stop' | 'delete';
  dryRun: boolean;
  /** The caller (the build's initiator). */
  subjectId: string;
  /** The caller may start, stop and delete the workspaces it owns, and those it does not (`authz`). */
  mayBuildOwn: boolean;
  mayBuildOthers: boolean;
  buildId: string;
  now: Date;
  seenSince: Date;
}

/**
 * A plain build — no state given, no orphan, no legacy parameter values, a version that declares no rich parameters —
 * in ONE statement: the source is read as `getBuildSource` reads it, and the job and build are inserted only when
 * every check the route makes passes on it (the caller may build this workspace, it is not deleted, the version's
 * template is the workspace's, its import succeeded, the latest build's job has completed); their values are the ones
 * `insertBuild` would write (the next number, the latest build's state, the import job's provisioner, file and tags
 * as `mutateTags` makes them). Answers the new build's view, or, when a check failed, the source, from which the route
 * finds the answer as it always did (and inserts with a second statement when the checks pass after all, e.g. a
 * version with parameters). A lost race is the unique (workspace, number) violation, as for `insertBuildWithJob`.
 */
export async function createPlainBuild(db: Queryable, p: PlainBuildParams): Promise<{ view: BuildView } | { source: BuildSource } | undefined> {
  const { rows } = await db.query<Omit<SourceColumns, 'workspace' | 'template'> & { src_workspace: Raw; src_template: Raw | null; build: unknown }>({
    name: 'kiln_create_plain_build',
    text: `WITH s AS (
        SELECT ${SOURCE_COLUMNS}, w.owner_id AS x_owner, w.deleted AS x_deleted, w.template_id AS x_ws_template, lb.id AS x_latest,
          lb.build_number AS x_latest_number, lj.completed_at AS x_latest_done, v.id AS x_version, t.id AS x_template,
          t.organization_id AS x_org, vj.provisioner AS x_provisioner, vj.file_id AS x_file, coalesce(vj.tags, '{}') AS x_tags,
          vj.completed_at AS x_import_done, vj.canceled_at AS x_import_canceled, vj.error AS x_import_error
        ${SOURCE_FROM} WHERE w.id = $1),
      ok AS (
        SELECT * FROM s WHERE ((s.x_owner = $3 AND $11::boolean) OR $4::boolean) AND NOT s.x_deleted AND s.x_template = s.x_ws_template
          AND s.x_import_done IS NOT NULL AND s.x_import_canceled IS NULL AND coalesce(s.x_import_error, '') = ''
          AND (s.x_latest IS NULL OR s.x_latest_done IS NOT NULL) AND json_array_length(s.parameters) = 0),
      job AS (
        INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, type, input, file_id, tags)
        SELECT $5, $6, $6, ok.x_org, $3, ok.x_provisioner, 'workspace_build', $7::jsonb, ok.x_file,
          CASE WHEN ok.x_tags ->> 'scope' = 'user' THEN ok.x_tags || jsonb_build_object('owner', ok.x_owner::text)
               ELSE (ok.x_tags - 'owner') || '{"scope": "organization"}'::jsonb END
        FROM ok RETURNING *),
      build AS (${INSERT_BUILD("$8, $6, $6, $1, ok.x_version, coalesce(ok.x_latest_number, 0) + 1, $9, $3, ok.latest_state, job.id, 'initiator' FROM ok, job")})
      SELECT ${SOURCE_UNLESS_BUILT}, nv.*
      FROM s LEFT JOIN LATERAL (SELECT ${buildViewColumns('$10', true)} FROM build b JOIN job j ON j.id = b.job_id ${BUILD_VIEW_OTHER_JOINS}) nv ON true`,
    values: [
      p.workspaceId, p.versionId, p.subjectId, p.mayBuildOthers, timeOrderedUuid(p.now), p.now,
      JSON.stringify({ workspace_build_id: p.buildId, dry_run: p.dryRun }), p.buildId, p.transition, p.seenSince, p.mayBuildOwn,
    ],
  });
  const r = rows[0];
  if (!r) return undefined;
  if (r.build) return { view: reviveBuildView(r as unknown as Raw) };
  const { src_workspace, src_template, ...rest } = r;
  return { source: sourceFromColumns({ ...rest, workspace: src_workspace, template: src_template }) };
}
