import { IDEMPOTENT, type Queryable } from '../pool.js';

export interface UserRow {
  id: string;
  email: string;
  username: string;
  hashed_password: string;
  status: 'active' | 'suspended';
  rbac_roles: string[];
  avatar_url: string;
  deleted: boolean;
  created_at: Date;
  updated_at: Date;
  last_seen_at: Date;
}

export async function getUserCount(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE NOT deleted');
  return rows[0]?.n ?? 0;
}

export async function getUserByID(db: Queryable, id: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
  return rows[0];
}

export async function getUsersByIDs(db: Queryable, ids: string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = ANY($1::uuid[])', [ids]);
  return rows;
}

export async function getUserByUsername(db: Queryable, username: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE lower(username) = lower($1) AND NOT deleted', [username]);
  return rows[0];
}

export async function getUserByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1) AND NOT deleted', [email]);
  return rows[0];
}

export interface InsertUserParams {
  id: string;
  email: string;
  username: string;
  hashedPassword: string;
  roles: string[];
  now: Date;
}

export async function insertUser(db: Queryable, p: InsertUserParams): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (id, email, username, hashed_password, rbac_roles, created_at, updated_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6, $6) RETURNING *`,
    [p.id, p.email, p.username, p.hashedPassword, p.roles, p.now],
  );
  return rows[0] as UserRow;
}

export async function updateUserLastSeen(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query(`${IDEMPOTENT} UPDATE users SET last_seen_at = $2 WHERE id = $1`, [id, now]);
}

export async function softDeleteUser(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('UPDATE users SET deleted = true, updated_at = $2 WHERE id = $1', [id, now]);
}
