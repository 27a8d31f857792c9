import { randomUUID } from 'node:crypto';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { inTx, isUniqueViolation } from '../../db/pool.js';
import { getTemplateByID, getTemplateByIDForShare } from '../../db/queries/templates.js';
import { getLatestWorkspaceBuild, updateWorkspaceBuildDeadline } from '../../db/queries/workspaceBuilds.js';
import { getWorkspaceViewsByIDs, listWorkspaceViews, type BuildView } from '../../db/queries/views.js';
import { getWorkspaceByOwnerAndName, insertWorkspace, updateWorkspaceTTL, type WorkspaceRow } from '../../db/queries/workspaces.js';
import { workspaceChannel } from '../../jobs/channels.js';
import type { CreateWorkspaceRequest } from '../../sdk/types/workspaces.js';
import { authz, type Subject } from '../authz.js';
import { readableWorkspace } from '../builds/access.js';
import { announceBuild, checkImportSucceeded, insertBuild, loadBuildSource } from '../builds/createBuild.js';
import { assembleWorkspace, daemonsSeenSince, renderBuilds, renderWorkspaces } from '../builds/render.js';
import type { ServerContext } from '../context.js';

import { ApiError, errors } from '../http/errors.js';
import { pageSize } from '../http/pagination.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { errorResponses, params, responseSchema, str, uuidParams } from '../schemas/common.js';
import { createWorkspaceBody, extendWorkspaceBody, updateWorkspaceTTLBody, workspaceSchema, workspacesResponseSchema } from '../schemas/workspaces.js';

import { resolveOrganizationParam } from './organizations.js';
import { resolveUserParam } from './userParam.js';
import { watchWorkspace } from './workspaceWatch.js';

const NAME_RE = /^[a-zA-Z0-9](-?[a-zA-Z0-9])*$/;
const tags = ['Workspaces'];
const MIN_TTL_MS = 60_000;
const MAX_TTL_MS = 7 * 24 * 3600_000;

function validateTTL(ttl: number | null | undefined): void {
  if (ttl === undefined || ttl === null) return;
  if (ttl < MIN_TTL_MS) throw errors.badRequest('Invalid Workspace Time to Shutdown.', undefined, [{ field: 'ttl_ms', detail: 'time until shutdown must be at least one minute' }]);
  if (ttl > MAX_TTL_MS) throw errors.badRequest('Invalid Workspace Time to Shutdown.', undefined, [{ field: 'ttl_ms', detail: 'time until shutdown must be less than 7 days' }]);
}

function parseDeletedFlag(raw: unknown, field: string): boolean {
  if (raw === undefined || raw === '') return false;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw errors.badRequest('Invalid query parameters.', undefined, [{ field, detail: 'Must be a valid boolean' }]);
}

/** `owner:me template:dev name:foo status:running` plus free text (a name match), as Coder's search box. */
function parseWorkspaceQuery(s: Subject, q: string) {
  const filter: { ownerIds?: string[]; ownerUsername?: string; templateNames?: string[]; name?: string; status?: string } = {};
  for (const term of q.split(/\s+/).filter(Boolean)) {
    const i = term.indexOf(':');
    const key = i > 0 ? term.slice(0, i).toLowerCase() : 'name';
    const value = i > 0 ? term.slice(i + 1) : term;
    if (key === 'owner') {
      // A username is matched in the list's statement; `me` is known already.
      if (value === 'me') {
        filter.ownerIds = [s.userId];
        delete filter.ownerUsername;
      } else {
        filter.ownerUsername = value;
        delete filter.ownerIds;
      }
    } else if (key === 'template') filter.templateNames = [value];
    else if (key === 'name') filter.name = value;
    else if (key === 'status') filter.status = value;
    else throw errors.badRequest('Invalid workspace search query.', undefined, [{ field: 'q', detail: `Query param "${key}" is not a valid query param` }]);
  }
  return filter;
}

export async function workspaceRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);
  const publish = (id: string) => ctx.pubsub.publish(workspaceChannel(id)).catch(() => {});

  type CreateRequest = FastifyRequest<{ Params: { user: string }; Body: CreateWorkspaceRequest }>;
  /** Creates a workspace and its first build; `orgId` undefined means "the template's organization". */
  const createWorkspace = async (req: CreateRequest, reply: FastifyReply, orgId: string | undefined) => {
    const s = subjectOf(req);
    const owner = await resolveUserParam(ctx.pool, s, req.params.user);
    if (!authz.canCreateWorkspaceFor(s, owner.id)) throw errors.forbidden();
    const body = req.body;
    if (!NAME_RE.test(body.name) || body.name.length > 32) {
      throw errors.validation([{ field: 'name', detail: `Validation failed for tag "workspace_name" with value: "${body.name}"` }]);
    }
    const template = await getTemplateByID(ctx.pool, body.template_id);
    if (!template || template.deleted || (orgId !== undefined && template.organization_id !== orgId)) {
      throw errors.badRequest(`Template "${body.template_id}" doesn't exist.`, undefined, [{ field: 'template_id', detail: 'template not found' }]);
    }
    validateTTL(body.ttl_ms);
    const { version, importJob: maybeImportJob, parameters } = await loadBuildSource(ctx.pool, body.template_version_id ?? template.active_version_id);
    if (version.template_id !== template.id) {
      throw errors.badRequest('Template version does not belong to the template.', undefined, [{ field: 'template_version_id', detail: 'template version must belong to the template' }]);
    }
    const importJob = checkImportSucceeded(version, maybeImportJob);
    const existing = await getWorkspaceByOwnerAndName(ctx.pool, owner.id, body.name);
    const taken = () =>
      errors.conflict(`Workspace "${body.name}" already exists.`, undefined, [{ field: 'name', detail: 'This value is already in use and should be unique.' }]);
    if (existing) throw taken();
    const ttl = body.ttl_ms ?? (template.default_ttl_ms > 0 ? template.default_ttl_ms : null);
    let workspace: WorkspaceRow;
    let build: BuildView;
    try {
      ({ workspace, build } = await inTx(ctx.pool, async (tx) => {
        const locked = await getTemplateByIDForShare(tx, template.id);
        if (!locked || locked.deleted) {
          throw errors.badRequest(`Template "${body.template_id}" doesn't exist.`, undefined, [{ field: 'template_id', detail: 'template not found' }]);
        }
        const w = await insertWorkspace(tx, {
          id: randomUUID(), now: ctx.clock.now(), ownerId: owner.id, organizationId: template.organization_id, templateId: template.id,
          name: body.name, autostartSchedule: body.autostart_schedule ?? null, ttlMs: ttl,
        });
        const b = await insertBuild(ctx, tx, {
          workspace: w, template, version, importJob, transition: 'start', initiatorId: s.userId, state: null, orphan: false,
          parameterValues: body.parameter_values ?? [], richParameterValues: body.rich_parameter_values, buildNumber: 1,
          declaredParameters: parameters, previousParameterValues: [],
        });
        return { workspace: w, build: b };
      }));
    } catch (e) {
      if (isUniqueViolation(e)) throw taken();
      throw e;
    }
    // Committed: now the daemons and the workspace's watchers may hear of its first build.
    await announceBuild(ctx, build);
    return reply.code(201).send((await renderWorkspaces(ctx, [workspace]))[0]);
  };
  const createSchema = (p: Record<string, typeof str>) => ({ tags, params: params(p), body: createWorkspaceBody, response: { 201: workspaceSchema, ...errorResponses } });

  app.post<{ Params: { organization: string; user: string }; Body: CreateWorkspaceRequest }>(
    '/api/v2/organizations/:organization/members/:user/workspaces',
    { onRequest: auth, schema: createSchema({ organization: str, user: str }) },
    async (req, reply) => {
      const org = await resolveOrganizationParam(ctx.pool, subjectOf(req), req.params.organization);
      return createWorkspace(req, reply, org.id);
    },
  );

  // Current Coder's route: the organization is the template's.
  app.post<{ Params: { user: string }; Body: CreateWorkspaceRequest }>(
    '/api/v2/users/:user/workspaces',
    { onRequest: auth, schema: createSchema({ user: str }) },
    async (req, reply) => createWorkspace(req, reply, undefined),
  );

  app.get<{ Querystring: { q?: string; owner?: string; name?: string; limit?: string; offset?: string } }>(
    '/api/v2/workspaces',
    { onRequest: auth, schema: { tags, response: { 200: workspacesResponseSchema, ...errorResponses } } },
    async (req) => {
      const s = subjectOf(req);
      const f = parseWorkspaceQuery(s, [req.query.q ?? '', req.query.owner ? `owner:${req.query.owner}` : '', req.query.name ? `name:${req.query.name}` : ''].join(' '));
      // Owners and template admins see every workspace; anyone else only their own.
      const seesAll = authz.canReadWorkspace(s, { owner_id: '' });
      const ownerIds = seesAll ? f.ownerIds : (f.ownerIds ?? [s.userId]).filter((id) => id === s.userId);
      const offset = Math.max(0, Number(req.query.offset) || 0);
      const limit = pageSize(Number(req.query.limit) || 0);
      if (ownerIds?.length === 0) return { workspaces: [], count: 0 };
      // One statement: filtered (status included), counted and paged in SQL; only the page is rendered.
      const list = await listWorkspaceViews(ctx.pool, {
        ownerIds, ownerUsername: f.ownerUsername, templateNames: f.templateNames, name: f.name, status: f.status, offset, limit,
        seenSince: daemonsSeenSince(ctx),
      });
      return { workspaces: list.workspaces.map((v) => assembleWorkspace(ctx, v)), count: list.count };
    },
  );

  app.get<{ Params: { workspace: string }; Querystring: { deleted?: string; include_deleted?: string } }>(
    '/api/v2/workspaces/:workspace',
    { onRequest: auth, schema: { tags, params: uuidParams('workspace'), response: { 200: workspaceSchema, ...errorResponses } } },
    async (req) => {
      // `include_deleted` is what codersdk's DeletedWorkspace() sends in both eras; `deleted` is December 2022's name.
      const showDeleted = parseDeletedFlag(req.query.deleted, 'deleted') || parseDeletedFlag(req.query.include_deleted, 'include_deleted');
      // One statement: the workspace, its template and latest build; readability is decided on the row it brought.
      const [view] = await getWorkspaceViewsByIDs(ctx.pool, [req.params.workspace], daemonsSeenSince(ctx));
      if (!view || !authz.canReadWorkspace(subjectOf(req), view.workspace)) throw errors.resourceNotFound();
      const w = view.workspace;
      if (w.deleted && !showDeleted) {
        throw new ApiError(410, `Workspace ${JSON.stringify(w.id)} was deleted, you can view this workspace by specifying '?deleted=true' and trying again.`);
      }
      return assembleWorkspace(ctx, view);
    },
  );

  app.get<{ Params: { user: string; workspacename: string }; Querystring: { include_deleted?: string } }>(
    '/api/v2/users/:user/workspace/:workspacename',
    { onRequest: auth, schema: { tags, params: params({ user: str, workspacename: str }), response: { 200: workspaceSchema, ...errorResponses } } },
    async (req) => {
      const s = subjectOf(req);
      const owner = await resolveUserParam(ctx.pool, s, req.params.user);
      let w = await getWorkspaceByOwnerAndName(ctx.pool, owner.id, req.params.workspacename);
      if (!w && req.query.include_deleted === 'true') w = await getWorkspaceByOwnerAndName(ctx.pool, owner.id, req.params.workspacename, true);
      if (!w || !authz.canReadWorkspace(s, w)) throw errors.resourceNotFound();
      return (await renderWorkspaces(ctx, [w]))[0];
    },
  );

  app.put<{ Params: { workspace: string }; Body: { ttl_ms: number | null } }>(
    '/api/v2/workspaces/:workspace/ttl',
    { onRequest: auth, schema: { tags, params: uuidParams('workspace'), body: updateWorkspaceTTLBody, response: { ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const w = await readableWorkspace(ctx, s, req.params.workspace);
      if (!authz.canUpdateWorkspace(s, w)) throw errors.resourceNotFound();
      validateTTL(req.body.ttl_ms);
      await updateWorkspaceTTL(ctx.pool, w.id, req.body.ttl_ms ?? null, ctx.clock.now());
      void publish(w.id);
      return reply.code(204).send();
    },
  );

  app.put<{ Params: { workspace: string }; Body: { deadline: string } }>(
    '/api/v2/workspaces/:workspace/extend',
    { onRequest: auth, schema: { tags, params: uuidParams('workspace'), body: extendWorkspaceBody, response: { 200: responseSchema, ...errorResponses } } },
    async (req) => {
      const s = subjectOf(req);
      const w = await readableWorkspace(ctx, s, req.params.workspace);
      if (!authz.canUpdateWorkspace(s, w)) throw errors.resourceNotFound();
      const build = await getLatestWorkspaceBuild(ctx.pool, w.id);
      const [rendered] = build ? await renderBuilds(ctx, [build]) : [];
      if (!build || rendered?.status !== 'running' || build.transition !== 'start') throw errors.badRequest('Workspace must be started, no build in progress.');
      if (!build.deadline) throw errors.badRequest('Workspace shutdown is manual.');
      const deadline = new Date(req.body.deadline);
      const now = ctx.clock.now();
      if (deadline.getTime() - now.getTime() < 30 * 60_000) {
        throw errors.badRequest('Cannot extend workspace: new deadline must be at least 30 minutes in the future.', undefined, [{ field: 'deadline', detail: 'too soon' }]);
      }
      await updateWorkspaceBuildDeadline(ctx.pool, build.id, deadline, now);
      void publish(w.id);
      return { message: 'Deadline updated to ' + deadline.toISOString() + '.' };
    },
  );

  app.get<{ Params: { workspace: string } }>(
    '/api/v2/workspaces/:workspace/watch',
    { onRequest: auth, schema: { tags, params: uuidParams('workspace'), response: { ...errorResponses } } },
    async (req, reply) => {
      const w = await readableWorkspace(ctx, subjectOf(req), req.params.workspace);
      await watchWorkspace(ctx, req, reply, w);
    },
  );
}
