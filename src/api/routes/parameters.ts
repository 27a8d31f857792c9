import type { FastifyInstance } from 'fastify';

import { getTemplateVersionParameters, getTemplateVersionVariables, getWorkspaceBuildParameters } from '../../db/queries/parameters.js';
import { getProvisionerJobByID } from '../../db/queries/provisionerJobs.js';
import { authz } from '../authz.js';
import { readableBuild } from '../builds/access.js';
import type { ServerContext } from '../context.js';
import { templateVersionParameter, templateVersionVariable } from '../convert/parameters.js';
import { ApiError, errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { errorResponses, uuidParams } from '../schemas/common.js';
import { templateVersionParametersSchema, templateVersionVariablesSchema, workspaceBuildParametersSchema } from '../schemas/parameters.js';
import { readableTemplateVersion } from '../templates/access.js';

/**
 * Rich parameters and template variables: what a version declares (read at its import) and what each build used.
 * Values are set through `rich_parameter_values` on workspace and build creation (src/api/builds/parameters.ts) and
 * `user_variable_values` on version creation.
 */
export async function parameterRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);

  /** The version's import must have finished: before that its declarations are not known. */
  async function importedVersion(req: { params: { templateversion: string } }, s: ReturnType<typeof subjectOf>) {
    const version = await readableTemplateVersion(ctx.pool, s, req.params.templateversion);
    const job = await getProvisionerJobByID(ctx.pool, version.job_id);
    if (!job) throw errors.internal('Internal error fetching provisioner job.');
    if (!job.completed_at) throw new ApiError(400, 'Template version job has not finished');
    return version;
  }

  app.get<{ Params: { templateversion: string } }>(
    '/api/v2/templateversions/:templateversion/rich-parameters',
    { onRequest: auth, schema: { tags: ['Templates'], params: uuidParams('templateversion'), response: { 200: templateVersionParametersSchema, ...errorResponses } } },
    async (req) => {
      const version = await importedVersion(req, subjectOf(req));
      return (await getTemplateVersionParameters(ctx.pool, version.id)).map(templateVersionParameter);
    },
  );

  app.get<{ Params: { templateversion: string } }>(
    '/api/v2/templateversions/:templateversion/variables',
    { onRequest: auth, schema: { tags: ['Templates'], params: uuidParams('templateversion'), response: { 200: templateVersionVariablesSchema, ...errorResponses } } },
    async (req) => {
      const s = subjectOf(req);
      // Variables configure the template itself (credentials, regions): only those who may change templates see them.
      if (!authz.canManageTemplates(s)) throw errors.resourceNotFound();
      const version = await importedVersion(req, s);
      return (await getTemplateVersionVariables(ctx.pool, version.id)).map(templateVersionVariable);
    },
  );

  app.get<{ Params: { workspacebuild: string } }>(
    '/api/v2/workspacebuilds/:workspacebuild/parameters',
    { onRequest: auth, schema: { tags: ['Builds'], params: uuidParams('workspacebuild'), response: { 200: workspaceBuildParametersSchema, ...errorResponses } } },
    async (req) => {
      const { build } = await readableBuild(ctx, subjectOf(req), req.params.workspacebuild);
      return getWorkspaceBuildParameters(ctx.pool, build.id);
    },
  );
}
