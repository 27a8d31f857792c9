import type { FastifyInstance } from 'fastify';

import { getReplicasUpdatedAfter } from '../../db/queries/replicas.js';
import type { Replica } from '../../sdk/types/provisionerKeys.js';
import { authz } from '../authz.js';
import type { ServerContext } from '../context.js';
import { rfc3339 } from '../convert/time.js';
import { errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { arr, errorResponses } from '../schemas/common.js';
import { replicaSchema } from '../schemas/provisionerDaemons.js';
import { REPLICA_DEAD_AFTER_BEATS } from '../replicas.js';

/** GET /api/v2/replicas: the live `kiln server` processes on this database (Coder's shape; site owners only). */
export async function replicaRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get(
    '/api/v2/replicas',
    { onRequest: requireAuth(ctx), schema: { tags: ['Enterprise'], response: { 200: arr(replicaSchema), ...errorResponses } } },
    async (req): Promise<Replica[]> => {
      if (!authz.isOwner(subjectOf(req))) throw errors.resourceNotFound();
      const since = new Date(ctx.clock.now().getTime() - REPLICA_DEAD_AFTER_BEATS * ctx.options.replicaHeartbeatMs);
      const rows = await getReplicasUpdatedAfter(ctx.pool, since);
      return rows.map((r) => ({
        id: r.id,
        hostname: r.hostname,
        created_at: rfc3339(r.created_at),
        started_at: rfc3339(r.started_at),
        updated_at: rfc3339(r.updated_at),
        relay_address: r.relay_address,
        region_id: r.region_id,
        error: r.error,
        database_latency: r.database_latency,
        version: r.version,
      }));
    },
  );
}
