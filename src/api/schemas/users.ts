import { arr, bool, obj, str, time, uuid } from './common.js';

export const roleSchema = obj({ name: str, display_name: str }, ['name', 'display_name']);

export const userSchema = obj(
  {
    id: uuid,
    username: str,
    email: str,
    created_at: time,
    last_seen_at: time,
    status: { type: 'string', enum: ['active', 'suspended'] },
    organization_ids: arr(uuid),
    roles: arr(roleSchema),
    avatar_url: str,
  },
  ['id', 'username', 'email', 'created_at', 'last_seen_at', 'status', 'organization_ids', 'roles', 'avatar_url'],
);

export const organizationSchema = obj({ id: uuid, name: str, created_at: time, updated_at: time }, ['id', 'name', 'created_at', 'updated_at']);

const username = { type: 'string' };
const email = { type: 'string' };
const password = { type: 'string' };

/** Field rules are checked in code (users.ts) so each failing field gets a precise message; the schema states shape. */
export const createFirstUserBody = { type: 'object', properties: { email, username, password, trial: bool }, required: ['email', 'username', 'password'] };
export const createUserBody = {
  type: 'object',
  properties: { email, username, password, organization_id: uuid, roles: arr({ type: 'string', enum: ['owner', 'template-admin', 'user-admin'] }) },
  required: ['email', 'username', 'password'],
};
export const loginBody = { type: 'object', properties: { email, password }, required: ['email', 'password'] };
