import type { SiteRole } from '../sdk/types/users.js';

/**
 * Who is asking. Site roles: `owner` can do everything; `template-admin` manages templates and files and reads every
 * workspace; `user-admin` manages users; everyone is a `member`, with full rights over what they own.
 */
export interface Subject {
  userId: string;
  username: string;
  roles: ReadonlySet<SiteRole>;
}

interface OwnedObject {
  owner_id: string;
}

const has = (s: Subject, ...roles: SiteRole[]) => roles.some((r) => s.roles.has(r));

export const authz = {
  isOwner: (s: Subject) => has(s, 'owner'),
  canManageUsers: (s: Subject) => has(s, 'owner', 'user-admin'),
  canReadUsers: (_s: Subject) => true,
  canManageTemplates: (s: Subject) => has(s, 'owner', 'template-admin'),
  canReadTemplates: (_s: Subject) => true,
  canReadAllFiles: (s: Subject) => has(s, 'owner', 'template-admin'),
  canReadWorkspace: (s: Subject, w: OwnedObject) => w.owner_id === s.userId || has(s, 'owner', 'template-admin'),
  /** start/stop builds, ttl, cancel: the owner of the workspace or a site owner. */
  canUpdateWorkspace: (s: Subject, w: OwnedObject) => w.owner_id === s.userId || has(s, 'owner'),
  canDeleteWorkspace: (s: Subject, w: OwnedObject) => w.owner_id === s.userId || has(s, 'owner'),
  /** Creating a workspace for another user takes a site owner. */
  canCreateWorkspaceFor: (s: Subject, ownerId: string) => ownerId === s.userId || has(s, 'owner'),
  /** Opening a workspace's apps (and, later, shells): its owner or a site owner, never a template admin. */
  canConnectToWorkspace: (s: Subject, w: OwnedObject) => w.owner_id === s.userId || has(s, 'owner'),
  canReadProvisioners: (_s: Subject) => true,
};

export function siteRoles(rbacRoles: readonly string[]): Set<SiteRole> {
  const roles = new Set<SiteRole>(['member']);
  for (const r of rbacRoles) if (r === 'owner' || r === 'template-admin' || r === 'user-admin') roles.add(r);
  return roles;
}
