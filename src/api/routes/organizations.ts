import type { FastifyInstance } from 'fastify';

import { getMembershipsByUsers, getOrganizationByID, getOrganizationByName, type OrganizationRow } from '../../db/queries/organizations.js';
import type { Queryable } from '../../db/pool.js';
import { authz, type Subject } from '../authz.js';
import type { ServerContext } from '../context.js';
import { convertOrganization } from '../convert/users.js';
import { errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { errorResponses, params, str } from '../schemas/common.js';
import { organizationSchema } from '../schemas/users.js';
import { isUuid } from '../../sdk/uuid.js';


/** `{organization}` in a path: an id or a name, readable by its members and site owners; otherwise 404. */
export async function resolveOrganizationParam(db: Queryable, s: Subject, raw: string): Promise<OrganizationRow> {
  const org = isUuid(raw) ? await getOrganizationByID(db, raw) : await getOrganizationByName(db, raw);
  if (!org) throw errors.resourceNotFound();
  if (!authz.isOwner(s)) {
    const memberships = await getMembershipsByUsers(db, [s.userId]);
    if (!memberships.some((m) => m.organization_id === org.id)) throw errors.resourceNotFound();
  }
  return org;
}

export async function organizationRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get<{ Params: { organization: string } }>(
    '/api/v2/organizations/:organization',
    { onRequest: requireAuth(ctx), schema: { tags: ['Organizations'], params: params({ organization: str }), response: { 200: organizationSchema, ...errorResponses } } },
    async (req) => convertOrganization(await resolveOrganizationParam(ctx.pool, subjectOf(req), req.params.organization)),
  );
}
