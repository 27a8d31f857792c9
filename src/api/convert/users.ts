import type { OrganizationRow } from '../../db/queries/organizations.js';
import type { UserRow } from '../../db/queries/users.js';
import type { Organization, Role, SiteRole, User } from '../../sdk/types/users.js';
import { siteRoles } from '../authz.js';

import { rfc3339 } from './time.js';

const ROLE_DISPLAY: Record<SiteRole, string> = {
  owner: 'Owner',
  'template-admin': 'Template Admin',
  'user-admin': 'User Admin',
  member: 'Member',
};

export function convertRoles(rbacRoles: readonly string[]): Role[] {
  return [...siteRoles(rbacRoles)].filter((r) => r !== 'member').map((r) => ({ name: r, display_name: ROLE_DISPLAY[r] }));
}

export function convertUser(u: UserRow, organizationIds: string[]): User {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    created_at: rfc3339(u.created_at),
    last_seen_at: rfc3339(u.last_seen_at),
    status: u.status,
    organization_ids: organizationIds,
    roles: convertRoles(u.rbac_roles),
    avatar_url: u.avatar_url,
  };
}

export function convertOrganization(o: OrganizationRow): Organization {
  return { id: o.id, name: o.name, created_at: rfc3339(o.created_at), updated_at: rfc3339(o.updated_at) };
}
