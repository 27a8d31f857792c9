import { randomUUID } from 'node:crypto';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { inTx, isUniqueViolation } from '../../db/pool.js';
import { getProvisionerJobByID } from '../../db/queries/provisionerJobs.js';
import { getTemplateByID } from '../../db/queries/templates.js';
import { getBuildViewByID, listBuildViews, type BuildView } from '../../db/queries/views.js';
import { getBuildLogsTarget, getWorkspaceBuildByNumber, type BuildLogsTarget, getWorkspaceBuildState, updateWorkspaceBuildState } from '../../db/queries/workspaceBuilds.js';
import { getWorkspaceByOwnerAndName } from '../../db/queries/workspaces.js';
import { createPlainBuild, getBuildSource } from '../../db/queries/buildCreation.js';
import { workspaceChannel } from '../../jobs/channels.js';
import { UpdateWorkspaceBuildStateRequest, WorkspaceBuildTimings, type CreateWorkspaceBuildRequest } from '../../sdk/types/workspaceBuilds.js';
import { authz, type Subject } from '../authz.js';
import type { BuildViewCache } from '../builds/buildViewCache.js';
import { readableBuild, readableWorkspace } from '../builds/access.js';
import { announceBuild, checkImportSucceeded, insertBuild, insertBuildNeedsTx, nextBuildNumber, versionNotFound, type InsertBuildParams } from '../builds/createBuild.js';
import { assembleBuild, daemonsSeenSince, loadResourcesForJobs, renderBuilds, renderedUntil } from '../builds/render.js';
import { buildTimings } from '../builds/timings.js';
import type { ServerContext } from '../context.js';
import { ApiError, errors } from '../http/errors.js';
import { parsePagination } from '../http/pagination.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { cancelJob, parseExpectStatus } from '../provisionerJobs/cancel.js';
import { jobLogsRoute } from '../provisionerJobs/logs.js';
import { arr, errorResponses, params, responseSchema, str, uuidParams } from '../schemas/common.js';
import { createWorkspaceBuildBody, workspaceBuildSchema, workspaceResourceSchema } from '../schemas/workspaceBuilds.js';

import { resolveUserParam } from './userParam.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Whether `s` may read, start, stop and delete a workspace owned by `ownerId` (for createPlainBuild's check). */
const mayBuild = (s: Subject, ownerId: string) => {
  const w = { owner_id: ownerId };
  return authz.canReadWorkspace(s, w) && authz.canUpdateWorkspace(s, w) && authz.canDeleteWorkspace(s, w);
};
const tags = ['Builds'];

function publishWorkspace(ctx: ServerContext, workspaceId: string): void {
  ctx.pubsub.publish(workspaceChannel(workspaceId)).catch((e: unknown) => ctx.logger.warn({ err: String(e) }, 'publish failed'));
}

/** `since` of a build list: RFC 3339 or 400. */
function parseSince(raw: string | undefined): Date | undefined {
  if (!raw) return undefined;
  const since = new Date(raw);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(raw) || Number.isNaN(since.getTime())) {
    throw errors.badRequest('bad `since` format, must be RFC3339', `parsing time "${raw}" as RFC3339 failed`);
  }
  return since;
}

export async function workspaceBuildRoutes(app: FastifyInstance, ctx: ServerContext, buildViews: BuildViewCache): Promise<void> {
  const auth = requireAuth(ctx);

  // A finished build read before is served from memory (buildViewCache.ts), its body too while the clock cannot
  // have changed it: rendered once, the serialized bytes are kept by onSend below.
  const rendering = new WeakMap<FastifyRequest, { view: BuildView; until: number }>();
  app.get<{ Params: { workspacebuild: string } }>(
    '/api/v2/workspacebuilds/:workspacebuild',
    {
      onRequest: auth,
      schema: { tags, params: uuidParams('workspacebuild'), response: { 200: workspaceBuildSchema, ...errorResponses } },
      onSend: async (req, reply, payload) => {
        const r = rendering.get(req);
        if (r && reply.statusCode === 200 && typeof payload === 'string') buildViews.keepRendered(r.view, payload, r.until);
        return payload;
      },
    },
    async (req, reply) => {
      // One statement, or none for a finished build read before: the build with everything it embeds; readability is
      // decided on the workspace it brought.
      const id = req.params.workspacebuild;
      const view = await buildViews.get(id, () => getBuildViewByID(ctx.pool, id, daemonsSeenSince(ctx)));
      if (!view || !authz.canReadWorkspace(subjectOf(req), view.workspace)) throw errors.resourceNotFound();
      const now = ctx.clock.now();
      const body = buildViews.rendered(view, now);
      if (body !== undefined) return reply.type('application/json; charset=utf-8').send(body);
      rendering.set(req, { view, until: renderedUntil(ctx, view, now) });
      return assembleBuild(ctx, view);
    },
  );

  app.patch<{ Params: { workspacebuild: string }; Querystring: { expect_status?: string } }>(
    '/api/v2/workspacebuilds/:workspacebuild/cancel',
    { onRequest: auth, schema: { tags, params: uuidParams('workspacebuild'), response: { 200: responseSchema, ...errorResponses } } },
    async (req) => {
      const s = subjectOf(req);
      const expect = parseExpectStatus(req.query.expect_status);
      const { build, workspace } = await readableBuild(ctx, s, req.params.workspacebuild);
      if (!authz.canUpdateWorkspace(s, workspace)) throw errors.resourceNotFound();
      const template = await getTemplateByID(ctx.pool, workspace.template_id);
      if (!template) throw errors.internal('Internal error verifying permission to cancel workspace build.');
      // Canceling a job that is still pending touches no infrastructure, so the template's restriction does not apply.
      if (!template.allow_user_cancel_workspace_jobs && !authz.isOwner(s) && expect !== 'pending') {
        throw new ApiError(403, 'User is not allowed to cancel workspace builds. Owner role is required.');
      }
      await cancelJob(ctx, build.job_id, expect, workspace.id);
      return { message: 'Job has been marked as canceled...' };
    },
  );

  // One statement: the build's job and its workspace's owner (as readableBuild decides, without reading whole rows).
  // Requests for one build that come while its read runs share it: what it reads cannot change (the job, the owner)
  // or only moves forward (completed), and 100 followers joining at once would otherwise open 100 statements.
  const targetReads = new Map<string, Promise<BuildLogsTarget | undefined>>();
  const readTarget = (id: string) => {
    let read = targetReads.get(id);
    if (!read) {
      read = getBuildLogsTarget(ctx.pool, id);
      const pending = read;
      const done = () => {
        if (targetReads.get(id) === pending) targetReads.delete(id);
      };
      pending.then(done, done);
      targetReads.set(id, pending);
    }
    return read;
  };
  const buildLogs = jobLogsRoute(ctx, async (req) => {
    const t = await readTarget((req as FastifyRequest<{ Params: { workspacebuild: string } }>).params.workspacebuild);
    if (!t) throw errors.resourceNotFound();
    if (t.workspace_owner_id === null) throw errors.internal('No workspace exists for this job.');
    if (!authz.canReadWorkspace(subjectOf(req), { owner_id: t.workspace_owner_id })) throw errors.resourceNotFound();
    if (!t.job_found) throw errors.internal('Internal error fetching provisioner job.');
    return { id: t.job_id, completed_at: t.job_completed_at };
  });
  app.route({
    method: 'GET',
    url: '/api/v2/workspacebuilds/:workspacebuild/logs',
    onRequest: auth,
    ...buildLogs,
    schema: { ...buildLogs.schema, tags, params: uuidParams('workspacebuild') },
  });

  app.get<{ Params: { workspacebuild: string } }>(
    '/api/v2/workspacebuilds/:workspacebuild/resources',
    { onRequest: auth, schema: { tags, params: uuidParams('workspacebuild'), response: { 200: arr(workspaceResourceSchema), ...errorResponses } } },
    async (req) => {
      const { build } = await readableBuild(ctx, subjectOf(req), req.params.workspacebuild);
      const job = await getProvisionerJobByID(ctx.pool, build.job_id);
      if (!job) throw errors.internal('Internal error fetching provisioner job.');
      if (!job.completed_at) throw errors.badRequest("Job hasn't completed!");
      const resources = (await loadResourcesForJobs(ctx, ctx.pool, [job.id])).get(job.id) ?? [];
      return [...resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
  );

  app.get<{ Params: { workspacebuild: string } }>(
    '/api/v2/workspacebuilds/:workspacebuild/state',
    { onRequest: auth, schema: { tags, params: uuidParams('workspacebuild'), response: { ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const { build } = await readableBuild(ctx, s, req.params.workspacebuild);
      // State can hold secrets: only template managers read it (deviation 10).
      if (!authz.canManageTemplates(s)) throw errors.forbidden();
      const state = await getWorkspaceBuildState(ctx.pool, build.id);
      return reply.type('application/json').send(state ?? Buffer.alloc(0));
    },
  );

  app.get<{ Params: { workspacebuild: string } }>(
    '/api/v2/workspacebuilds/:workspacebuild/timings',
    { onRequest: auth, schema: { tags, params: uuidParams('workspacebuild'), response: { 200: WorkspaceBuildTimings, ...errorResponses } } },
    async (req) => {
      const { build } = await readableBuild(ctx, subjectOf(req), req.params.workspacebuild);
      const job = await getProvisionerJobByID(ctx.pool, build.job_id);
      if (!job) throw errors.internal('Internal error fetching provisioner job.');
      return buildTimings(ctx, build, job);
    },
  );

  app.put<{ Params: { workspacebuild: string }; Body: UpdateWorkspaceBuildStateRequest }>(
    '/api/v2/workspacebuilds/:workspacebuild/state',
    { onRequest: auth, schema: { tags, params: uuidParams('workspacebuild'), body: UpdateWorkspaceBuildStateRequest, response: { ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const { build, workspace } = await readableBuild(ctx, s, req.params.workspacebuild);
      // Coder's rule: replacing state takes the right to update the template (it is how `coder state push` works).
      if (!authz.canManageTemplates(s)) throw errors.forbidden();
      const raw = req.body.state;
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw) || raw.length % 4 !== 0) {
        throw errors.badRequest('Invalid request body.', undefined, [{ field: 'state', detail: 'must be standard base64' }]);
      }
      await updateWorkspaceBuildState(ctx.pool, build.id, Buffer.from(raw, 'base64'), ctx.clock.now());
      publishWorkspace(ctx, workspace.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { workspace: string }; Querystring: Record<string, string | undefined> }>(
    '/api/v2/workspaces/:workspace/builds',
    { onRequest: auth, schema: { tags, params: uuidParams('workspace'), response: { 200: arr(workspaceBuildSchema), ...errorResponses } } },
    async (req) => {
      let query: { page: ReturnType<typeof parsePagination>; since?: Date };
      try {
        query = { page: parsePagination(req.query), since: parseSince(req.query.since) };
      } catch (e) {
        // A workspace the caller cannot read is 404 before anything about the query is said (it costs a statement only here).
        await readableWorkspace(ctx, subjectOf(req), req.params.workspace);
        throw e;
      }
      const { page, since } = query;
      // One statement: the workspace (for the access check), the cursor, and the page of builds, rendered.
      const list = await listBuildViews(ctx.pool, {
        workspaceId: req.params.workspace, since, afterId: page.afterId, offset: page.offset, limit: page.limit, seenSince: daemonsSeenSince(ctx),
      });
      if (!list.workspace || !authz.canReadWorkspace(subjectOf(req), list.workspace)) throw errors.resourceNotFound();
      if (page.afterId && !list.afterFound) throw errors.badRequest(`Record at "after_id" (${JSON.stringify(page.afterId)}) does not exist.`);
      return list.builds.map((v) => assembleBuild(ctx, v));
    },
  );

  app.post<{ Params: { workspace: string }; Body: CreateWorkspaceBuildRequest }>(
    '/api/v2/workspaces/:workspace/builds',
    { onRequest: auth, schema: { tags, params: uuidParams('workspace'), body: createWorkspaceBuildBody, response: { 201: workspaceBuildSchema, ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const body = req.body;
      const askedVersion = body.template_version_id && body.template_version_id !== ZERO_UUID ? body.template_version_id : null;
      const customState = body.state !== undefined && body.state !== null;
      // A plain build is created by ONE statement when every check passes (createPlainBuild); otherwise that statement
      // answers what getBuildSource reads (everything the build is decided from), and the checks below, in the order
      // Coder makes them, find the answer.
      let src;
      if (!customState && !body.orphan && !(body.parameter_values ?? []).length) {
        let made;
        try {
          made = await createPlainBuild(ctx.pool, {
            workspaceId: req.params.workspace, versionId: askedVersion, transition: body.transition, dryRun: body.dry_run === true,
            subjectId: s.userId, mayBuildOwn: mayBuild(s, s.userId), mayBuildOthers: mayBuild(s, ''), buildId: randomUUID(), now: ctx.clock.now(), seenSince: daemonsSeenSince(ctx),
          });
        } catch (e) {
          if (isUniqueViolation(e)) throw errors.conflict('A workspace build is already active.');
          throw e;
        }
        if (made && 'view' in made) {
          await announceBuild(ctx, made.view);
          return reply.code(201).send(assembleBuild(ctx, made.view));
        }
        src = made?.source;
      } else {
        src = await getBuildSource(ctx.pool, req.params.workspace, askedVersion);
      }
      if (!src || !authz.canReadWorkspace(s, src.workspace)) throw errors.resourceNotFound();
      const workspace = src.workspace;
      const allowed = body.transition === 'delete' ? authz.canDeleteWorkspace(s, workspace) : authz.canUpdateWorkspace(s, workspace);
      if (!allowed) throw errors.resourceNotFound();
      if (workspace.deleted && body.transition !== 'delete') {
        throw errors.conflict(`Cannot ${body.transition} a deleted workspace!`, 'This workspace has been deleted and cannot be modified.');
      }
      if (!askedVersion && !src.latest) throw errors.internal('Internal error fetching the latest workspace build.');
      const { version, template } = src;
      if (!version) throw versionNotFound();
      if (!template) throw errors.internal('Failed to get template');
      if (template.id !== workspace.template_id) {
        throw errors.badRequest('Template version does not belong to the workspace\'s template.', undefined, [
          { field: 'template_version_id', detail: 'template version must belong to the workspace\'s template' },
        ]);
      }
      if ((customState || body.orphan) && !authz.canManageTemplates(s)) throw new ApiError(403, 'Only template managers may provide custom state');
      if (body.orphan && body.transition !== 'delete') throw errors.badRequest('Orphan is only permitted when deleting a workspace.');
      if (body.orphan && body.dry_run) throw errors.badRequest('Orphan cannot be combined with dry_run: an orphan delete runs no provisioner.');
      if (body.orphan && customState) throw errors.badRequest('ProvisionerState cannot be set alongside Orphan since state intent is unclear.');
      const importJob = checkImportSucceeded(version, src.importJob);
      const previous = src.latest?.build;
      const p: InsertBuildParams = {
        workspace,
        template,
        version,
        importJob,
        transition: body.transition,
        initiatorId: s.userId,
        state: body.orphan ? Buffer.alloc(0) : customState ? Buffer.from(body.state as string, 'base64') : (previous?.provisioner_state ?? null),
        orphan: !!body.orphan,
        dryRun: body.dry_run === true,
        parameterValues: body.parameter_values ?? [],
        richParameterValues: body.rich_parameter_values,
        declaredParameters: src.parameters,
        previousParameterValues: src.latest?.parameters ?? [],
        // 409 while the latest build is active. No lock is held from the read to the insert: a build created in
        // between took this number, and the insert's unique (workspace, number) answers 409 below, as a lock would.
        buildNumber: nextBuildNumber(src.latest),
      };
      let view;
      try {
        view = insertBuildNeedsTx(p) ? await inTx(ctx.pool, (tx) => insertBuild(ctx, tx, p)) : await insertBuild(ctx, ctx.pool, p);
      } catch (e) {
        if (isUniqueViolation(e)) throw errors.conflict('A workspace build is already active.');
        throw e;
      }
      // Committed: now the daemons and the workspace's watchers may hear of it. The insert read the new build's view.
      await announceBuild(ctx, view);
      return reply.code(201).send(assembleBuild(ctx, view));
    },
  );

  app.get<{ Params: { user: string; workspacename: string; buildnumber: string } }>(
    '/api/v2/users/:user/workspace/:workspacename/builds/:buildnumber',
    { onRequest: auth, schema: { tags, params: params({ user: str, workspacename: str, buildnumber: str }), response: { 200: workspaceBuildSchema, ...errorResponses } } },
    async (req) => {
      const s = subjectOf(req);
      const owner = await resolveUserParam(ctx.pool, s, req.params.user);
      const raw = req.params.buildnumber;
      const n = Number(raw);
      if (!/^[+-]?\d+$/.test(raw) || n > 2 ** 31 - 1 || n < -(2 ** 31)) {
        throw errors.badRequest('Failed to parse build number as integer.', `strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
      }
      const workspace = await getWorkspaceByOwnerAndName(ctx.pool, owner.id, req.params.workspacename);
      if (!workspace || !authz.canReadWorkspace(s, workspace)) throw errors.resourceNotFound();
      const build = await getWorkspaceBuildByNumber(ctx.pool, workspace.id, n);
      if (!build) throw new ApiError(404, `Workspace "${req.params.workspacename}" Build ${n} does not exist.`);
      return (await renderBuilds(ctx, [build]))[0];
    },
  );
}
