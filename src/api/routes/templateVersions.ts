import { randomUUID } from 'node:crypto';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { inTx, isUniqueViolation, type Queryable } from '../../db/pool.js';
import { getFileMetaByID } from '../../db/queries/files.js';
import { getTemplateVersionVariables, setTemplateVersionUserVariableValues } from '../../db/queries/parameters.js';
import { getProvisionerJobByID, type TemplateVersionImportJobInput } from '../../db/queries/provisionerJobs.js';
import { insertTemplateVersion, templateVersionNameTaken } from '../../db/queries/templateVersions.js';
import { getTemplateByID, type TemplateRow } from '../../db/queries/templates.js';
import { announceJob, enqueueJob, mutateTags } from '../../jobs/enqueue.js';
import type { ValidationError } from '../../sdk/types/response.js';
import type { CreateTemplateVersionRequest } from '../../sdk/types/templates.js';
import { authz } from '../authz.js';
import { loadResourcesForJobs } from '../builds/render.js';
import type { ServerContext } from '../context.js';
import { ZERO_UUID } from '../convert/templates.js';
import { ApiError, errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { cancelJob } from '../provisionerJobs/cancel.js';
import { jobLogsRoute } from '../provisionerJobs/logs.js';
import { arr, errorResponses, params, responseSchema, str, uuidParams } from '../schemas/common.js';
import { createTemplateVersionBody, templateVersionSchema } from '../schemas/templates.js';
import { workspaceResourceSchema } from '../schemas/workspaceBuilds.js';
import { manageableTemplateVersion, readableTemplateVersion } from '../templates/access.js';
import { checkTemplateVersionName, generateVersionName } from '../templates/names.js';
import { renderTemplateVersion } from '../templates/render.js';

import { resolveOrganizationParam } from './organizations.js';

const tags = ['Templates'];

const versionNameConflict = (name: string) =>
  errors.conflict(`A template version with name "${name}" already exists for this template.`, undefined, [
    { field: 'name', detail: 'This value is already in use and should be unique.' },
  ]);

/** A name the template does not use yet: the caller's (409 when taken) or a generated one. */
async function chooseVersionName(tx: Queryable, template: TemplateRow | undefined, requested: string | undefined): Promise<string> {
  if (requested) {
    if (template && (await templateVersionNameTaken(tx, template.id, requested))) throw versionNameConflict(requested);
    return requested;
  }
  for (;;) {
    const name = generateVersionName();
    if (!template || !(await templateVersionNameTaken(tx, template.id, name))) return name;
  }
}

export async function templateVersionRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);

  app.post<{ Params: { organization: string }; Body: CreateTemplateVersionRequest }>(
    '/api/v2/organizations/:organization/templateversions',
    {
      onRequest: auth,
      schema: { tags, params: params({ organization: str }), body: createTemplateVersionBody, response: { 201: templateVersionSchema, ...errorResponses } },
    },
    async (req, reply) => {
      const s = subjectOf(req);
      const body = req.body;
      const org = await resolveOrganizationParam(ctx.pool, s, req.params.organization);
      const v: ValidationError[] = [];
      if (body.name) checkTemplateVersionName('name', body.name, v);
      if (v.length) throw errors.validation(v);

      // Coder's order: the template (404 when unknown), then the permission, then the file.
      let template: TemplateRow | undefined;
      if (body.template_id && body.template_id !== ZERO_UUID) {
        template = await getTemplateByID(ctx.pool, body.template_id);
        // A template of another organization is as unknown as a missing one: versions live in the org of the URL.
        if (!template || template.deleted || template.organization_id !== org.id) throw new ApiError(404, 'Template does not exist.');
      }
      if (!authz.canManageTemplates(s)) throw errors.resourceNotFound();
      const file = await getFileMetaByID(ctx.pool, body.file_id);
      if (!file) throw new ApiError(404, 'File not found.');
      if (file.created_by !== s.userId && !authz.canReadAllFiles(s)) throw errors.resourceNotFound();

      let version;
      try {
        version = await inTx(ctx.pool, async (tx) => {
          const now = ctx.clock.now();
          const versionId = randomUUID();
          const name = await chooseVersionName(tx, template, body.name);
          const input: TemplateVersionImportJobInput = { template_version_id: versionId };
          // One transaction with the version the job points at; the daemons are woken once it has committed.
          const job = await enqueueJob(tx, {
            now,
            organizationId: org.id,
            initiatorId: s.userId,
            provisioner: body.provisioner,
            type: 'template_version_import',
            input,
            fileId: file.id,
            tags: mutateTags(s.userId, body.tags ?? undefined),
          });
          const created = await insertTemplateVersion(tx, { id: versionId, now, templateId: template?.id ?? null, organizationId: org.id, name, jobId: job.id, createdBy: s.userId });
          // Variable values: the request's, else (as Coder does) those of the template's active version.
          let values = body.user_variable_values ?? [];
          if (values.length === 0 && template) values = (await getTemplateVersionVariables(tx, template.active_version_id)).filter((x) => x.value !== '').map((x) => ({ name: x.name, value: x.value }));
          if (values.length) await setTemplateVersionUserVariableValues(tx, versionId, values);
          return created;
        });
      } catch (e) {
        // Two creates racing for one name: the unique index decides, the loser gets the same 409 as a taken name.
        if (isUniqueViolation(e, 'template_versions_template_name') && body.name) throw versionNameConflict(body.name);
        throw e;
      }
      await announceJob(ctx, version.job_id);
      return reply.code(201).send(await renderTemplateVersion(ctx.pool, version, ctx.clock.now()));
    },
  );

  app.get<{ Params: { templateversion: string } }>(
    '/api/v2/templateversions/:templateversion',
    { onRequest: auth, schema: { tags, params: uuidParams('templateversion'), response: { 200: templateVersionSchema, ...errorResponses } } },
    async (req) => renderTemplateVersion(ctx.pool, await readableTemplateVersion(ctx.pool, subjectOf(req), req.params.templateversion), ctx.clock.now()),
  );

  app.patch<{ Params: { templateversion: string } }>(
    '/api/v2/templateversions/:templateversion/cancel',
    { onRequest: auth, schema: { tags, params: uuidParams('templateversion'), response: { 200: responseSchema, ...errorResponses } } },
    async (req) => {
      const version = await manageableTemplateVersion(ctx.pool, subjectOf(req), req.params.templateversion);
      await cancelJob(ctx, version.job_id);
      return { message: 'Job has been marked as canceled...' };
    },
  );

  app.get<{ Params: { templateversion: string } }>(
    '/api/v2/templateversions/:templateversion/resources',
    { onRequest: auth, schema: { tags, params: uuidParams('templateversion'), response: { 200: arr(workspaceResourceSchema), ...errorResponses } } },
    async (req) => {
      const version = await readableTemplateVersion(ctx.pool, subjectOf(req), req.params.templateversion);
      const job = await getProvisionerJobByID(ctx.pool, version.job_id);
      if (!job) throw errors.internal('Internal error fetching provisioner job.');
      if (!job.completed_at) throw errors.badRequest("Job hasn't completed!");
      // The import job's resources: what a workspace of this version would get, shown before anyone builds one.
      const resources = (await loadResourcesForJobs(ctx, ctx.pool, [job.id])).get(job.id) ?? [];
      return [...resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
  );

  const versionLogs = jobLogsRoute(ctx, async (req) => {
    const { templateversion } = (req as FastifyRequest<{ Params: { templateversion: string } }>).params;
    const version = await readableTemplateVersion(ctx.pool, subjectOf(req), templateversion);
    const job = await getProvisionerJobByID(ctx.pool, version.job_id);
    if (!job) throw errors.internal('Internal error fetching provisioner job.');
    return job;
  });
  app.route({
    method: 'GET',
    url: '/api/v2/templateversions/:templateversion/logs',
    onRequest: auth,
    ...versionLogs,
    schema: { ...versionLogs.schema, tags, params: uuidParams('templateversion') },
  });
}
