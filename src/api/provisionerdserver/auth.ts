import { timingSafeEqual } from 'node:crypto';

import type { FastifyRequest } from 'fastify';

import { getDefaultOrganization, getOrganizationByID, getOrganizationByName, type OrganizationRow } from '../../db/queries/organizations.js';
import { getProvisionerKeyByHashedSecret } from '../../db/queries/provisionerKeys.js';
import { PROVISIONER_KEY_HEADER, PROVISIONER_PSK_HEADER } from '../../sdk/types/provisionerdProtocol.js';
import { hashSecret } from '../auth/apiKeys.js';
import { authz, type Subject } from '../authz.js';
import type { ServerContext } from '../context.js';
import { errors } from '../http/errors.js';
import { authenticate, tokenFromRequest } from '../middleware/apiKey.js';
import { resolveOrganizationParam } from '../routes/organizations.js';
import { isUuid } from '../../sdk/uuid.js';

/** Who a connecting daemon is, and what that allows it to take. */
export type DaemonPrincipal =
  | { kind: 'key'; keyId: string; keyName: string; tags: Record<string, string> }
  | { kind: 'psk' }
  | { kind: 'user'; subject: Subject };

export interface DaemonAuth {
  organization: OrganizationRow;
  principal: DaemonPrincipal;
}

/**
 * Authenticates a daemon's connection (Coder's order): a provisioner key, else the pre-shared key, else a user's
 * session token. A key belongs to one organization; the PSK serves any; a user must be a member.
 */
export async function authenticateDaemon(ctx: ServerContext, req: FastifyRequest, orgParam: string): Promise<DaemonAuth> {
  const key = header(req, PROVISIONER_KEY_HEADER);
  const psk = header(req, PROVISIONER_PSK_HEADER);
  if (key) {
    const row = await getProvisionerKeyByHashedSecret(ctx.pool, hashSecret(key));
    if (!row) throw errors.unauthorized('The provisioner key is invalid or was deleted.');
    const org = await organizationOf(ctx, orgParam);
    if (!org || org.id !== row.organization_id) throw errors.unauthorized('The provisioner key does not belong to this organization.');
    return { organization: org, principal: { kind: 'key', keyId: row.id, keyName: row.name, tags: row.tags } };
  }
  if (psk) {
    const expected = ctx.options.provisionerDaemonPsk;
    if (!expected) throw errors.unauthorized('This server accepts no pre-shared key: it was started without --provisioner-daemon-psk.');
    if (!sameSecret(psk, expected)) throw errors.unauthorized('The pre-shared key is invalid.');
    const org = await organizationOf(ctx, orgParam);
    if (!org) throw errors.resourceNotFound();
    return { organization: org, principal: { kind: 'psk' } };
  }
  if (!tokenFromRequest(req)) {
    throw errors.unauthorized(`A provisioner daemon authenticates with the ${PROVISIONER_KEY_HEADER} or ${PROVISIONER_PSK_HEADER} header, or a session token.`);
  }
  const subject = await authenticate(ctx, req);
  const org = await resolveOrganizationParam(ctx.pool, subject, orgParam);
  return { organization: org, principal: { kind: 'user', subject } };
}

/**
 * The tags a daemon serves with. A key's tags are the key's (a daemon may repeat them, not change them); a user's
 * daemon with `scope=user` serves only that user's jobs; an organization-wide daemon on a user's token takes a
 * template admin.
 */
export function effectiveTags(principal: DaemonPrincipal, requested: Record<string, string>): Record<string, string> {
  if (principal.kind === 'key') {
    for (const [k, v] of Object.entries(requested)) {
      if (principal.tags[k] !== v && !(k === 'scope' && v === 'organization' && !principal.tags.scope)) {
        throw errors.badRequest(`The daemon's tags must match its provisioner key's: tag "${k}" differs from key "${principal.keyName}".`);
      }
    }
    return { scope: 'organization', ...principal.tags };
  }
  const tags = { ...requested };
  if (tags.scope === 'user') {
    if (principal.kind !== 'user') throw errors.badRequest('A daemon with scope=user must authenticate with its owner\'s session token.');
    tags.owner = principal.subject.userId;
    return tags;
  }
  if (principal.kind === 'user' && !authz.canManageTemplates(principal.subject)) {
    throw errors.forbidden();
  }
  tags.scope = 'organization';
  delete tags.owner;
  return tags;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return typeof v === 'string' && v ? v : undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = hashSecret(a);
  const y = hashSecret(b);
  return timingSafeEqual(x, y);
}

/** An id, a name, or `default` (Coder's alias for the default organization). */
async function organizationOf(ctx: ServerContext, raw: string): Promise<OrganizationRow | undefined> {
  if (raw === 'default') return (await getOrganizationByName(ctx.pool, raw)) ?? getDefaultOrganization(ctx.pool);
  return isUuid(raw) ? getOrganizationByID(ctx.pool, raw) : getOrganizationByName(ctx.pool, raw);
}
