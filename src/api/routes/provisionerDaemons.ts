import type { FastifyInstance } from 'fastify';

import { getProvisionerDaemonsByOrganization } from '../../db/queries/provisionerDaemons.js';
import type { ProvisionerDaemon } from '../../sdk/types/provisionerJobs.js';
import type { ServerContext } from '../context.js';
import { optionalTime, rfc3339 } from '../convert/time.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { arr, errorResponses, params, str } from '../schemas/common.js';
import { provisionerDaemonSchema } from '../schemas/provisionerDaemons.js';

import { resolveOrganizationParam } from './organizations.js';

export async function provisionerDaemonRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  // The daemons that can run this organization's jobs, with what each is running: a view into the queue.
  app.get<{ Params: { organization: string } }>(
    '/api/v2/organizations/:organization/provisionerdaemons',
    {
      onRequest: requireAuth(ctx),
      schema: { tags: ['Provisioners'], params: params({ organization: str }), response: { 200: arr(provisionerDaemonSchema), ...errorResponses } },
    },
    async (req): Promise<ProvisionerDaemon[]> => {
      const org = await resolveOrganizationParam(ctx.pool, subjectOf(req), req.params.organization);
      const rows = await getProvisionerDaemonsByOrganization(ctx.pool, org.id);
      return rows.map((d) => ({
        id: d.id,
        created_at: rfc3339(d.created_at),
        updated_at: optionalTime(d.updated_at),
        last_seen_at: optionalTime(d.last_seen_at),
        name: d.name,
        provisioners: d.provisioners,
        tags: d.tags,
        current_job_id: d.current_job_id ?? undefined,
      }));
    },
  );
}
