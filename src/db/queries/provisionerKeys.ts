import type { Queryable } from '../pool.js';

export interface ProvisionerKeyRow {
  id: string;
  created_at: Date;
  organization_id: string;
  name: string;
  hashed_secret: Buffer;
  tags: Record<string, string>;
}

export async function insertProvisionerKey(
  db: Queryable,
  p: { id: string; now: Date; organizationId: string; name: string; hashedSecret: Buffer; tags: Record<string, string> },
): Promise<ProvisionerKeyRow> {
  const { rows } = await db.query<ProvisionerKeyRow>(
    `INSERT INTO provisioner_keys (id, created_at, organization_id, name, hashed_secret, tags)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [p.id, p.now, p.organizationId, p.name, p.hashedSecret, JSON.stringify(p.tags)],
  );
  return rows[0] as ProvisionerKeyRow;
}

export async function getProvisionerKeyByID(db: Queryable, id: string): Promise<ProvisionerKeyRow | undefined> {
  const { rows } = await db.query<ProvisionerKeyRow>('SELECT * FROM provisioner_keys WHERE id = $1', [id]);
  return rows[0];
}

/** Names are unique per organization, case-insensitively (Coder's rule). */
export async function getProvisionerKeyByName(db: Queryable, organizationId: string, name: string): Promise<ProvisionerKeyRow | undefined> {
  const { rows } = await db.query<ProvisionerKeyRow>('SELECT * FROM provisioner_keys WHERE organization_id = $1 AND lower(name) = lower($2)', [organizationId, name]);
  return rows[0];
}

export async function listProvisionerKeys(db: Queryable, organizationId: string): Promise<ProvisionerKeyRow[]> {
  const { rows } = await db.query<ProvisionerKeyRow>('SELECT * FROM provisioner_keys WHERE organization_id = $1 ORDER BY created_at, name', [organizationId]);
  return rows;
}

/** Deletes the key; its daemons' rows go with it (ON DELETE CASCADE). Returns the ids those daemons had. */
export async function deleteProvisionerKey(db: Queryable, id: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM provisioner_daemons WHERE key_id = $1', [id]);
  await db.query('DELETE FROM provisioner_keys WHERE id = $1', [id]);
  return rows.map((r) => r.id);
}

export async function getProvisionerKeyByHashedSecret(db: Queryable, hashedSecret: Buffer): Promise<ProvisionerKeyRow | undefined> {
  const { rows } = await db.query<ProvisionerKeyRow>('SELECT * FROM provisioner_keys WHERE hashed_secret = $1', [hashedSecret]);
  return rows[0];
}
