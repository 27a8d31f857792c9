import type { Queryable } from '../pool.js';

export interface OrganizationRow {
  id: string;
  name: string;
  description: string;
  is_default: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface OrganizationMemberRow {
  organization_id: string;
  user_id: string;
  roles: string[];
}

export async function insertOrganization(db: Queryable, p: { id: string; name: string; isDefault: boolean; now: Date }): Promise<OrganizationRow> {
  const { rows } = await db.query<OrganizationRow>(
    'INSERT INTO organizations (id, name, is_default, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING *',
    [p.id, p.name, p.isDefault, p.now],
  );
  return rows[0] as OrganizationRow;
}

export async function getDefaultOrganization(db: Queryable): Promise<OrganizationRow | undefined> {
  const { rows } = await db.query<OrganizationRow>('SELECT * FROM organizations WHERE is_default');
  return rows[0];
}

export async function getOrganizationByID(db: Queryable, id: string): Promise<OrganizationRow | undefined> {
  const { rows } = await db.query<OrganizationRow>('SELECT * FROM organizations WHERE id = $1', [id]);
  return rows[0];
}

export async function getOrganizationsByIDs(db: Queryable, ids: string[]): Promise<OrganizationRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<OrganizationRow>('SELECT * FROM organizations WHERE id = ANY($1::uuid[])', [ids]);
  return rows;
}

export async function getOrganizationByName(db: Queryable, name: string): Promise<OrganizationRow | undefined> {
  const { rows } = await db.query<OrganizationRow>('SELECT * FROM organizations WHERE lower(name) = lower($1)', [name]);
  return rows[0];
}

export async function getOrganizationsByUser(db: Queryable, userId: string): Promise<OrganizationRow[]> {
  const { rows } = await db.query<OrganizationRow>(
    `SELECT o.* FROM organizations o JOIN organization_members m ON m.organization_id = o.id
     WHERE m.user_id = $1 ORDER BY o.created_at`,
    [userId],
  );
  return rows;
}

export async function getMembershipsByUsers(db: Queryable, userIds: string[]): Promise<OrganizationMemberRow[]> {
  if (userIds.length === 0) return [];
  const { rows } = await db.query<OrganizationMemberRow>(
    'SELECT organization_id, user_id, roles FROM organization_members WHERE user_id = ANY($1::uuid[]) ORDER BY created_at',
    [userIds],
  );
  return rows;
}

export async function insertOrganizationMember(db: Queryable, p: { organizationId: string; userId: string; roles: string[]; now: Date }): Promise<void> {
  await db.query(
    'INSERT INTO organization_members (organization_id, user_id, roles, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)',
    [p.organizationId, p.userId, p.roles, p.now],
  );
}
