import { randomUUID } from 'node:crypto';

import type { FastifyInstance } from 'fastify';

import { inTx, isUniqueViolation } from '../../db/pool.js';
import { getProvisionerJobByID } from '../../db/queries/provisionerJobs.js';
import { bindTemplateVersionToTemplate, listTemplateVersionsByTemplate } from '../../db/queries/templateVersions.js';
import {
  getTemplateByIDForUpdate,
  getTemplateByOrganizationAndName,
  getTemplatesByOrganization,
  getTemplateVersionByID,
  insertTemplate,
  templateHasLiveWorkspaces,
  updateTemplateActiveVersion,
  updateTemplateDeleted,
  updateTemplateMeta,
} from '../../db/queries/templates.js';
import type { ValidationError } from '../../sdk/types/response.js';
import type { CreateTemplateRequest, UpdateActiveTemplateVersion, UpdateTemplateMeta } from '../../sdk/types/templates.js';
import { authz } from '../authz.js';
import type { ServerContext } from '../context.js';
import { jobStatus } from '../convert/provisionerJobs.js';
import { ApiError, errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { arr, errorResponses, params, responseSchema, str, uuidParams } from '../schemas/common.js';
import {
  createTemplateBody,
  templateSchema,
  templateVersionsListSchema,
  updateActiveTemplateVersionBody,
  updateTemplateMetaBody,
} from '../schemas/templates.js';
import { manageableTemplate, readableTemplate } from '../templates/access.js';
import { checkDescription, checkTemplateDisplayName, checkTemplateName } from '../templates/names.js';
import { parsePagination } from '../http/pagination.js';
import { renderTemplate, renderTemplates, renderTemplateVersions } from '../templates/render.js';

import { resolveOrganizationParam } from './organizations.js';

const tags = ['Templates'];

const nameTaken = (name: string) =>
  errors.conflict(`Template with name "${name}" already exists.`, undefined, [{ field: 'name', detail: 'This value is already in use and should be unique.' }]);

const TEMPLATE_NAME_INDEX = 'templates_org_name';

export async function templateRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);

  app.post<{ Params: { organization: string }; Body: CreateTemplateRequest }>(
    '/api/v2/organizations/:organization/templates',
    { onRequest: auth, schema: { tags, params: params({ organization: str }), body: createTemplateBody, response: { 201: templateSchema, ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const body = req.body;
      const org = await resolveOrganizationParam(ctx.pool, s, req.params.organization);
      if (!authz.canManageTemplates(s)) throw errors.resourceNotFound();
      const v: ValidationError[] = [];
      checkTemplateName('name', body.name, v);
      checkTemplateDisplayName('display_name', body.display_name ?? '', v);
      checkDescription('description', body.description ?? '', v);
      if (v.length) throw errors.validation(v);

      if (await getTemplateByOrganizationAndName(ctx.pool, org.id, body.name)) throw nameTaken(body.name);
      const version = await getTemplateVersionByID(ctx.pool, body.template_version_id);
      // A version of another organization is reported as missing: it cannot become part of a template here.
      if (!version || version.organization_id !== org.id) {
        throw new ApiError(404, `Template version "${body.template_version_id}" does not exist.`, undefined, [
          { field: 'template_version_id', detail: 'Template version does not exist' },
        ]);
      }
      const alreadyBound = () =>
        errors.badRequest(`Template version ${version.id} is already part of a template`, undefined, [
          { field: 'template_version_id', detail: 'Template version is already part of a template' },
        ]);
      if (version.template_id) throw alreadyBound();
      // As in Coder, the import need not have finished: building a workspace is what checks it (406/400 there).
      const importJob = await getProvisionerJobByID(ctx.pool, version.job_id);
      if (!importJob) throw errors.internal('Internal error fetching provisioner job.');
      const ttl = body.default_ttl_ms ?? 0;
      if (ttl < 0) {
        throw errors.badRequest('Invalid create template request.', undefined, [{ field: 'default_ttl_ms', detail: 'Must be a positive integer.' }]);
      }

      let template;
      try {
        template = await inTx(ctx.pool, async (tx) => {
          const now = ctx.clock.now();
          const created = await insertTemplate(tx, {
            id: randomUUID(),
            now,
            organizationId: org.id,
            name: body.name,
            displayName: body.display_name ?? '',
            description: body.description ?? '',
            icon: body.icon ?? '',
            provisioner: importJob.provisioner,
            activeVersionId: version.id,
            defaultTtlMs: ttl,
            allowUserCancelWorkspaceJobs: body.allow_user_cancel_workspace_jobs ?? false,
            createdBy: s.userId,
          });
          // Same transaction: a template never exists without its active version pointing back at it.
          if (!(await bindTemplateVersionToTemplate(tx, version.id, created.id, now))) throw alreadyBound();
          return created;
        });
      } catch (e) {
        if (isUniqueViolation(e, TEMPLATE_NAME_INDEX)) throw nameTaken(body.name);
        throw e;
      }
      return reply.code(201).send(await renderTemplate(ctx, ctx.pool, template));
    },
  );

  app.get<{ Params: { organization: string } }>(
    '/api/v2/organizations/:organization/templates',
    { onRequest: auth, schema: { tags, params: params({ organization: str }), response: { 200: arr(templateSchema), ...errorResponses } } },
    async (req) => {
      const org = await resolveOrganizationParam(ctx.pool, subjectOf(req), req.params.organization);
      return renderTemplates(ctx, ctx.pool, await getTemplatesByOrganization(ctx.pool, org.id));
    },
  );

  app.get<{ Params: { organization: string; templatename: string } }>(
    '/api/v2/organizations/:organization/templates/:templatename',
    { onRequest: auth, schema: { tags, params: params({ organization: str, templatename: str }), response: { 200: templateSchema, ...errorResponses } } },
    async (req) => {
      const org = await resolveOrganizationParam(ctx.pool, subjectOf(req), req.params.organization);
      const t = await getTemplateByOrganizationAndName(ctx.pool, org.id, req.params.templatename);
      if (!t) throw errors.resourceNotFound();
      return renderTemplate(ctx, ctx.pool, t);
    },
  );

  app.get<{ Params: { template: string } }>(
    '/api/v2/templates/:template',
    { onRequest: auth, schema: { tags, params: uuidParams('template'), response: { 200: templateSchema, ...errorResponses } } },
    async (req) => renderTemplate(ctx, ctx.pool, await readableTemplate(ctx.pool, subjectOf(req), req.params.template)),
  );

  app.patch<{ Params: { template: string }; Body: UpdateTemplateMeta }>(
    '/api/v2/templates/:template',
    { onRequest: auth, schema: { tags, params: uuidParams('template'), body: updateTemplateMetaBody, response: { 200: templateSchema, ...errorResponses } } },
    async (req, reply) => {
      const template = await manageableTemplate(ctx.pool, subjectOf(req), req.params.template);
      const body = req.body;
      const v: ValidationError[] = [];
      if (body.name) checkTemplateName('name', body.name, v);
      if (body.display_name) checkTemplateDisplayName('display_name', body.display_name, v);
      if (v.length) throw errors.validation(v);
      if ((body.default_ttl_ms ?? 0) < 0) {
        throw errors.badRequest('Invalid request to update template metadata!', undefined, [{ field: 'default_ttl_ms', detail: 'Must be a positive integer.' }]);
      }
      // Coder's fields are Go values with omitempty: an absent field reads as "", 0 or false. Only an empty name or
      // description keeps the current value; display_name, icon, TTL and the cancel flag are set to what was sent.
      const sent = {
        name: body.name ?? '',
        display_name: body.display_name ?? '',
        description: body.description ?? '',
        icon: body.icon ?? '',
        default_ttl_ms: body.default_ttl_ms ?? 0,
        allow_user_cancel_workspace_jobs: body.allow_user_cancel_workspace_jobs ?? false,
      };
      let updated;
      try {
        updated = await inTx(ctx.pool, async (tx) => {
          const current = await getTemplateByIDForUpdate(tx, template.id);
          if (!current || current.deleted) throw errors.resourceNotFound();
          // Coder compares the request as sent with the template: only a request repeating every value is a no-op.
          const unchanged =
            sent.name === current.name &&
            sent.description === current.description &&
            sent.display_name === current.display_name &&
            sent.icon === current.icon &&
            sent.allow_user_cancel_workspace_jobs === current.allow_user_cancel_workspace_jobs &&
            sent.default_ttl_ms === current.default_ttl_ms;
          if (unchanged) return undefined;
          return updateTemplateMeta(tx, {
            id: current.id,
            now: ctx.clock.now(),
            name: sent.name || current.name,
            displayName: sent.display_name,
            description: sent.description || current.description,
            icon: sent.icon,
            defaultTtlMs: sent.default_ttl_ms,
            allowUserCancelWorkspaceJobs: sent.allow_user_cancel_workspace_jobs,
          });
        });
      } catch (e) {
        // Renaming onto a live template's name (Coder: 500); kiln answers like a create would.
        if (isUniqueViolation(e, TEMPLATE_NAME_INDEX)) throw nameTaken(sent.name);
        throw e;
      }
      if (!updated) return reply.code(304).send();
      return renderTemplate(ctx, ctx.pool, updated);
    },
  );

  app.delete<{ Params: { template: string } }>(
    '/api/v2/templates/:template',
    { onRequest: auth, schema: { tags, params: uuidParams('template'), response: { 200: responseSchema, ...errorResponses } } },
    async (req) => {
      const template = await manageableTemplate(ctx.pool, subjectOf(req), req.params.template);
      await inTx(ctx.pool, async (tx) => {
        // The lock makes a concurrent delete wait here and then find the template gone (404), not delete it twice.
        const current = await getTemplateByIDForUpdate(tx, template.id);
        if (!current || current.deleted) throw errors.resourceNotFound();
        if (await templateHasLiveWorkspaces(tx, current.id)) {
          throw new ApiError(412, 'All workspaces must be deleted before a template can be removed.');
        }
        await updateTemplateDeleted(tx, current.id, ctx.clock.now());
      });
      return { message: 'Template has been deleted!' };
    },
  );

  app.get<{ Params: { template: string }; Querystring: Record<string, string | undefined> }>(
    '/api/v2/templates/:template/versions',
    { onRequest: auth, schema: { tags, params: uuidParams('template'), response: { 200: templateVersionsListSchema, ...errorResponses } } },
    async (req) => {
      const template = await readableTemplate(ctx.pool, subjectOf(req), req.params.template);
      const page = parsePagination(req.query);
      if (page.afterId && !(await getTemplateVersionByID(ctx.pool, page.afterId))) {
        throw errors.badRequest(`Record at "after_id" (${JSON.stringify(page.afterId)}) does not exists.`);
      }
      const rows = await listTemplateVersionsByTemplate(ctx.pool, { templateId: template.id, ...page });
      return renderTemplateVersions(ctx.pool, rows, ctx.clock.now());
    },
  );

  app.patch<{ Params: { template: string }; Body: UpdateActiveTemplateVersion }>(
    '/api/v2/templates/:template/versions',
    {
      onRequest: auth,
      schema: { tags, params: uuidParams('template'), body: updateActiveTemplateVersionBody, response: { 200: responseSchema, ...errorResponses } },
    },
    async (req) => {
      const template = await manageableTemplate(ctx.pool, subjectOf(req), req.params.template);
      const version = await getTemplateVersionByID(ctx.pool, req.body.id);
      if (!version) throw new ApiError(404, 'Template version not found.');
      if (version.template_id !== template.id) throw errors.badRequest("The provided template version doesn't belong to the specified template.");
      const job = await getProvisionerJobByID(ctx.pool, version.job_id);
      if (!job) throw errors.internal('Internal error fetching template version job status.');
      // Later Coder refuses to promote a version that would fail every build; December 2022 did not check.
      const status = jobStatus(job);
      if (status !== 'succeeded') {
        throw new ApiError(403, 'Only versions that have been built successfully can be promoted.', `Attempted to promote a version with a ${status} build`);
      }
      await updateTemplateActiveVersion(ctx.pool, template.id, version.id, ctx.clock.now());
      return { message: 'Updated the active template version!' };
    },
  );
}
