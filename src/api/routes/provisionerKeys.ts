import { randomBytes, randomUUID } from 'node:crypto';

import type { FastifyInstance } from 'fastify';

import { inTx, isUniqueViolation } from '../../db/pool.js';
import { getRunningJobIDsOfWorkers } from '../../db/queries/provisionerDaemons.js';
import { deleteProvisionerKey, getProvisionerKeyByName, insertProvisionerKey, listProvisionerKeys, type ProvisionerKeyRow } from '../../db/queries/provisionerKeys.js';
import { PROVISIONER_KEY_DELETED_CHANNEL } from '../../jobs/channels.js';
import { abortJob } from '../../jobs/complete.js';
import { publish } from '../../jobs/context.js';
import type { CreateProvisionerKeyRequest, CreateProvisionerKeyResponse, ProvisionerKey } from '../../sdk/types/provisionerKeys.js';
import { hashSecret } from '../auth/apiKeys.js';
import { authz } from '../authz.js';
import type { ServerContext } from '../context.js';
import { rfc3339 } from '../convert/time.js';
import { ApiError, errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { arr, errorResponses, params, str } from '../schemas/common.js';
import { createProvisionerKeyBody, provisionerKeySchema } from '../schemas/provisionerDaemons.js';

import { resolveOrganizationParam } from './organizations.js';

const RESERVED = new Set(['built-in', 'user-auth', 'psk']);
const NAME_MAX = 64;

function convertKey(k: ProvisionerKeyRow): ProvisionerKey {
  return { id: k.id, created_at: rfc3339(k.created_at), organization: k.organization_id, name: k.name, tags: k.tags };
}

/** Coder's provisioner key API. Keys are managed by template admins and owners; the secret is returned once. */
export async function provisionerKeyRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);
  const tags = ['Provisioners'];

  app.post<{ Params: { organization: string }; Body: CreateProvisionerKeyRequest }>(
    '/api/v2/organizations/:organization/provisionerkeys',
    { onRequest: auth, schema: { tags, params: params({ organization: str }), body: createProvisionerKeyBody, response: { 201: { type: 'object', properties: { key: str }, required: ['key'] }, ...errorResponses } } },
    async (req, reply): Promise<CreateProvisionerKeyResponse> => {
      const s = subjectOf(req);
      const org = await resolveOrganizationParam(ctx.pool, s, req.params.organization);
      if (!authz.canManageTemplates(s)) throw errors.forbidden();
      const name = req.body.name.trim();
      if (!name) throw errors.validation([{ field: 'name', detail: 'Name is required.' }]);
      if (name.length > NAME_MAX) throw errors.validation([{ field: 'name', detail: `Name must be at most ${NAME_MAX} characters.` }]);
      if (RESERVED.has(name.toLowerCase())) throw errors.validation([{ field: 'name', detail: `"${name}" is reserved.` }]);
      const keyTags = { ...(req.body.tags ?? {}) };
      // A key's daemons serve the organization; user-scoped daemons connect with their owner's token instead.
      if (keyTags.scope === 'user' || 'owner' in keyTags) throw errors.validation([{ field: 'tags', detail: 'A provisioner key cannot carry scope=user or an owner.' }]);
      const secret = randomBytes(32).toString('base64url');
      try {
        await insertProvisionerKey(ctx.pool, { id: randomUUID(), now: ctx.clock.now(), organizationId: org.id, name, hashedSecret: hashSecret(secret), tags: keyTags });
      } catch (e) {
        if (isUniqueViolation(e, 'provisioner_keys_organization_name')) {
          throw errors.conflict(`Provisioner key with name "${name}" already exists in organization "${org.name}".`);
        }
        throw e;
      }
      return reply.code(201).send({ key: secret });
    },
  );

  app.get<{ Params: { organization: string } }>(
    '/api/v2/organizations/:organization/provisionerkeys',
    { onRequest: auth, schema: { tags, params: params({ organization: str }), response: { 200: arr(provisionerKeySchema), ...errorResponses } } },
    async (req): Promise<ProvisionerKey[]> => {
      const s = subjectOf(req);
      const org = await resolveOrganizationParam(ctx.pool, s, req.params.organization);
      if (!authz.canManageTemplates(s)) throw errors.forbidden();
      return (await listProvisionerKeys(ctx.pool, org.id)).map(convertKey);
    },
  );

  // Deleting a key cuts its daemons off on every replica (a NOTIFY) and fails the jobs they were running, with a
  // message saying why, so no build waits for the hang timeout.
  app.delete<{ Params: { organization: string; provisionerkey: string } }>(
    '/api/v2/organizations/:organization/provisionerkeys/:provisionerkey',
    { onRequest: auth, schema: { tags, params: params({ organization: str, provisionerkey: str }), response: errorResponses } },
    async (req, reply) => {
      const s = subjectOf(req);
      const org = await resolveOrganizationParam(ctx.pool, s, req.params.organization);
      if (!authz.canManageTemplates(s)) throw errors.forbidden();
      const { key, jobIds } = await inTx(ctx.pool, async (tx) => {
        const k = await getProvisionerKeyByName(tx, org.id, req.params.provisionerkey);
        if (!k) throw new ApiError(404, `Provisioner key "${req.params.provisionerkey}" not found.`);
        const daemonIds = await deleteProvisionerKey(tx, k.id);
        return { key: k, jobIds: await getRunningJobIDsOfWorkers(tx, daemonIds) };
      });
      await publish(ctx, PROVISIONER_KEY_DELETED_CHANNEL, key.id);
      for (const jobId of jobIds) {
        await abortJob(ctx, jobId, `The provisioner key "${key.name}" was deleted while this job ran; its daemon was disconnected.`);
      }
      return reply.code(204).send();
    },
  );
}
