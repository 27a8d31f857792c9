import type { FastifyInstance, FastifyRequest } from 'fastify';

import { inTx } from '../../db/pool.js';
import { getProvisionerJobByID, getQueuePositions, type ProvisionerJobRow, type TemplateVersionDryRunJobInput } from '../../db/queries/provisionerJobs.js';
import { announceJob, enqueueJob } from '../../jobs/enqueue.js';
import type { CreateTemplateVersionDryRunRequest } from '../../sdk/types/templates.js';
import type { ServerContext } from '../context.js';
import { loadResourcesForJobs } from '../builds/render.js';
import { convertProvisionerJob } from '../convert/provisionerJobs.js';
import { ApiError, errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { cancelJob } from '../provisionerJobs/cancel.js';
import { jobLogsRoute } from '../provisionerJobs/logs.js';
import { arr, errorResponses, params, responseSchema, uuid } from '../schemas/common.js';
import { provisionerJobSchema } from '../schemas/provisionerJobs.js';
import { createDryRunBody } from '../schemas/templates.js';
import { workspaceResourceSchema } from '../schemas/workspaceBuilds.js';
import { manageableTemplateVersion } from '../templates/access.js';
import { getTemplateVersionByID } from '../../db/queries/templates.js';

const tags = ['Templates'];
const dryRunParams = params({ templateversion: uuid, jobID: uuid });

/**
 * Coder's template version dry runs: a plan of the `start` transition of a would-be workspace, run by the version's
 * provisioner without creating anything (echo replays, local reports, terraform plans). The job belongs to the
 * version and to the user who started it: others get 404, as in Coder.
 */
export async function templateVersionDryRunRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);

  async function loadDryRun(req: FastifyRequest): Promise<ProvisionerJobRow> {
    const { templateversion, jobID } = req.params as { templateversion: string; jobID: string };
    const s = subjectOf(req);
    const version = await manageableTemplateVersion(ctx.pool, s, templateversion);
    const job = await getProvisionerJobByID(ctx.pool, jobID);
    const input = job?.input as unknown as TemplateVersionDryRunJobInput | undefined;
    if (!job || job.type !== 'template_version_dry_run' || input?.template_version_id !== version.id || job.initiator_id !== s.userId) {
      throw new ApiError(404, 'Provisioner job not found.');
    }
    return job;
  }

  const render = async (job: ProvisionerJobRow) => {
    const versionId = (job.input as unknown as TemplateVersionDryRunJobInput).template_version_id;
    const [queue, version] = await Promise.all([getQueuePositions(ctx.pool, job.started_at ? [] : [job.id]), getTemplateVersionByID(ctx.pool, versionId)]);
    return convertProvisionerJob(job, { templateVersionName: version?.name ?? '' }, queue.get(job.id));
  };

  app.post<{ Params: { templateversion: string }; Body: CreateTemplateVersionDryRunRequest }>(
    '/api/v2/templateversions/:templateversion/dry-run',
    { onRequest: auth, schema: { tags, params: params({ templateversion: uuid }), body: createDryRunBody, response: { 201: provisionerJobSchema, ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const version = await manageableTemplateVersion(ctx.pool, s, req.params.templateversion);
      const importJob = await getProvisionerJobByID(ctx.pool, version.job_id);
      if (!importJob) throw errors.internal('Internal error fetching provisioner job.');
      if (!importJob.completed_at || importJob.error) throw errors.badRequest('Template version import job hasn\'t completed successfully!');
      const input: TemplateVersionDryRunJobInput = {
        template_version_id: version.id,
        workspace_name: req.body.workspace_name ?? '',
        parameter_values: (req.body.parameter_values ?? []).map((p) => ({ name: p.name, value: p.source_value, destination_scheme: p.destination_scheme })),
      };
      const job = await inTx(ctx.pool, (tx) => enqueueJob(tx, {
        now: ctx.clock.now(),
        organizationId: importJob.organization_id,
        initiatorId: s.userId,
        provisioner: importJob.provisioner,
        type: 'template_version_dry_run',
        input,
        fileId: importJob.file_id,
        tags: importJob.tags,
      }));
      await announceJob(ctx, job.id);
      return reply.code(201).send(await render(job));
    },
  );

  app.get('/api/v2/templateversions/:templateversion/dry-run/:jobID', { onRequest: auth, schema: { tags, params: dryRunParams, response: { 200: provisionerJobSchema, ...errorResponses } } }, async (req) =>
    render(await loadDryRun(req)),
  );

  app.get('/api/v2/templateversions/:templateversion/dry-run/:jobID/resources', { onRequest: auth, schema: { tags, params: dryRunParams, response: { 200: arr(workspaceResourceSchema), ...errorResponses } } }, async (req) => {
    const job = await loadDryRun(req);
    if (!job.completed_at) throw errors.badRequest("Job hasn't completed!");
    const resources = (await loadResourcesForJobs(ctx, ctx.pool, [job.id])).get(job.id) ?? [];
    return [...resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  });

  app.patch('/api/v2/templateversions/:templateversion/dry-run/:jobID/cancel', { onRequest: auth, schema: { tags, params: dryRunParams, response: { 200: responseSchema, ...errorResponses } } }, async (req) => {
    const job = await loadDryRun(req);
    await cancelJob(ctx, job.id);
    return { message: 'Job has been marked as canceled...' };
  });

  const logs = jobLogsRoute(ctx, loadDryRun);
  app.route({ method: 'GET', url: '/api/v2/templateversions/:templateversion/dry-run/:jobID/logs', onRequest: auth, ...logs, schema: { ...logs.schema, tags, params: dryRunParams } });
}
