import type { FastifyInstance } from 'fastify';

import { getMembershipsByUsers } from '../../db/queries/organizations.js';
import { getProvisionerJobByID } from '../../db/queries/provisionerJobs.js';
import { getPreviousTemplateVersion, getTemplatesInOrganizations, getTemplateVersionByTemplateAndName } from '../../db/queries/templates.js';
import { DAUsResponse, ParameterSchema, Preset, TemplateACL, TemplateExample, TemplateVersionExternalAuth } from '../../sdk/types/templates.js';
import { authz } from '../authz.js';
import type { ServerContext } from '../context.js';
import { ApiError, errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { arr, errorResponses, params, str, uuid, uuidParams } from '../schemas/common.js';
import { templateSchema, templateVersionSchema } from '../schemas/templates.js';
import { readableTemplate, readableTemplateVersion } from '../templates/access.js';
import { listExamples } from '../templates/examples.js';
import { renderTemplates, renderTemplateVersion } from '../templates/render.js';

import { resolveOrganizationParam } from './organizations.js';

const tags = ['Templates'];

/** Template routes of later Coder (and December 2022's `schema`), with empty lists where kiln has no such data yet. */
export async function templateExtraRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);

  app.get(
    '/api/v2/templates',
    { onRequest: auth, schema: { tags, response: { 200: arr(templateSchema), ...errorResponses } } },
    async (req) => {
      const s = subjectOf(req);
      // Every organization's templates for those who see every organization; a member's own organizations otherwise.
      const orgIds = authz.isOwner(s) || authz.canManageTemplates(s) ? undefined : (await getMembershipsByUsers(ctx.pool, [s.userId])).map((m) => m.organization_id);
      return renderTemplates(ctx, ctx.pool, await getTemplatesInOrganizations(ctx.pool, orgIds));
    },
  );

  // Static paths before `/templates/:template`, which only takes UUIDs.
  const examples = { onRequest: auth, schema: { tags, response: { 200: arr(TemplateExample), ...errorResponses } } };
  app.get('/api/v2/templates/examples', examples, async () => listExamples());
  app.get<{ Params: { organization: string } }>(
    '/api/v2/organizations/:organization/templates/examples',
    { ...examples, schema: { ...examples.schema, params: params({ organization: str }) } },
    async (req) => {
      await resolveOrganizationParam(ctx.pool, subjectOf(req), req.params.organization);
      return listExamples();
    },
  );

  app.get<{ Params: { template: string; templateversionname: string } }>(
    '/api/v2/templates/:template/versions/:templateversionname',
    { onRequest: auth, schema: { tags, params: params({ template: uuid, templateversionname: str }), response: { 200: templateVersionSchema, ...errorResponses } } },
    async (req) => {
      const t = await readableTemplate(ctx.pool, subjectOf(req), req.params.template);
      const v = await getTemplateVersionByTemplateAndName(ctx.pool, t.id, req.params.templateversionname);
      if (!v) throw new ApiError(404, `No template version found by name "${req.params.templateversionname}".`);
      return renderTemplateVersion(ctx.pool, v);
    },
  );

  app.get<{ Params: { template: string }; Querystring: { tz_offset?: string } }>(
    '/api/v2/templates/:template/daus',
    { onRequest: auth, schema: { tags, params: uuidParams('template'), response: { 200: DAUsResponse, ...errorResponses } } },
    async (req) => {
      await readableTemplate(ctx.pool, subjectOf(req), req.params.template);
      const offset = Number(req.query.tz_offset ?? 0);
      if (!Number.isInteger(offset) || offset < -12 || offset > 14) {
        throw errors.badRequest('Query parameters have invalid values.', undefined, [{ field: 'tz_offset', detail: 'must be an integer between -12 and 14' }]);
      }
      return { entries: [], tz_hour_offset: offset };
    },
  );

  app.get<{ Params: { template: string } }>(
    '/api/v2/templates/:template/acl',
    { onRequest: auth, schema: { tags, params: uuidParams('template'), response: { 200: TemplateACL, ...errorResponses } } },
    async (req) => {
      const s = subjectOf(req);
      await readableTemplate(ctx.pool, s, req.params.template);
      if (!authz.isOwner(s)) throw errors.resourceNotFound();
      return { users: [], group: [] };
    },
  );

  app.get<{ Params: { templateversion: string } }>(
    '/api/v2/templateversions/:templateversion/previous',
    { onRequest: auth, schema: { tags, params: uuidParams('templateversion'), response: { 200: templateVersionSchema, ...errorResponses } } },
    async (req) => {
      const v = await readableTemplateVersion(ctx.pool, subjectOf(req), req.params.templateversion);
      const prev = v.template_id ? await getPreviousTemplateVersion(ctx.pool, v) : undefined;
      if (!prev) throw errors.resourceNotFound();
      return renderTemplateVersion(ctx.pool, prev);
    },
  );

  app.get<{ Params: { templateversion: string } }>(
    '/api/v2/templateversions/:templateversion/presets',
    { onRequest: auth, schema: { tags, params: uuidParams('templateversion'), response: { 200: arr(Preset), ...errorResponses } } },
    async (req) => {
      await readableTemplateVersion(ctx.pool, subjectOf(req), req.params.templateversion);
      return [];
    },
  );

  app.get<{ Params: { templateversion: string } }>(
    '/api/v2/templateversions/:templateversion/external-auth',
    { onRequest: auth, schema: { tags, params: uuidParams('templateversion'), response: { 200: arr(TemplateVersionExternalAuth), ...errorResponses } } },
    async (req) => {
      await readableTemplateVersion(ctx.pool, subjectOf(req), req.params.templateversion);
      return [];
    },
  );

  // December 2022's CLI reads the legacy parameter schemas of a version before creating a workspace.
  app.get<{ Params: { templateversion: string } }>(
    '/api/v2/templateversions/:templateversion/schema',
    { onRequest: auth, schema: { tags, params: uuidParams('templateversion'), response: { 200: arr(ParameterSchema), ...errorResponses } } },
    async (req) => {
      const v = await readableTemplateVersion(ctx.pool, subjectOf(req), req.params.templateversion);
      const job = await getProvisionerJobByID(ctx.pool, v.job_id);
      if (!job) throw errors.internal('Internal error fetching provisioner job.');
      if (!job.completed_at) throw new ApiError(412, "Template version job hasn't completed!");
      return [];
    },
  );
}
