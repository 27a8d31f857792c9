import { IDEMPOTENT, type Queryable } from '../pool.js';

export interface ApiKeyRow {
  id: string;
  hashed_secret: Buffer;
  user_id: string;
  login_type: 'password' | 'token';
  lifetime_seconds: number;
  expires_at: Date;
  last_used: Date;
  created_at: Date;
  updated_at: Date;
}

export interface ApiKeyWithUserRow extends ApiKeyRow {
  user_username: string | null;
  user_status: 'active' | 'suspended' | null;
  user_deleted: boolean | null;
  user_rbac_roles: string[] | null;
}

/** The key and the few user fields authentication needs, in one round trip (every authenticated request pays it). */
export async function getApiKeyWithUserByID(db: Queryable, id: string): Promise<ApiKeyWithUserRow | undefined> {
  const { rows } = await db.query<ApiKeyWithUserRow>(
    `SELECT k.*, u.username AS user_username, u.status AS user_status, u.deleted AS user_deleted, u.rbac_roles AS user_rbac_roles
     FROM api_keys k LEFT JOIN users u ON u.id = k.user_id WHERE k.id = $1`,
    [id],
  );
  return rows[0];
}

export interface InsertApiKeyParams {
  id: string;
  hashedSecret: Buffer;
  userId: string;
  loginType: 'password' | 'token';
  lifetimeMs: number;
  now: Date;
}

export async function insertApiKey(db: Queryable, p: InsertApiKeyParams): Promise<void> {
  await db.query(
    `INSERT INTO api_keys (id, hashed_secret, user_id, login_type, lifetime_seconds, expires_at, last_used, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)`,
    [p.id, p.hashedSecret, p.userId, p.loginType, Math.round(p.lifetimeMs / 1000), new Date(p.now.getTime() + p.lifetimeMs), p.now],
  );
}

export async function updateApiKeyLastUsed(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query(`${IDEMPOTENT} UPDATE api_keys SET last_used = $2, updated_at = $2 WHERE id = $1`, [id, now]);
}

export async function deleteApiKey(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM api_keys WHERE id = $1', [id]);
}

/** Deletes keys that expired before `before`, at most `limit` per call (so one pass never holds long locks). */
export async function deleteExpiredApiKeys(db: Queryable, before: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    'DELETE FROM api_keys WHERE id IN (SELECT id FROM api_keys WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)',
    [before, limit],
  );
  return rowCount ?? 0;
}
