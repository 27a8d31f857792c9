import type { Queryable } from '../pool.js';

export interface FileRow {
  id: string;
  hash: string;
  created_by: string;
  mimetype: string;
  data: Buffer;
  created_at: Date;
}

/** A file without its bytes: who uploaded it, what it is. */
export async function getFileMetaByID(db: Queryable, id: string): Promise<Omit<FileRow, 'data'> | undefined> {
  const { rows } = await db.query<Omit<FileRow, 'data'>>('SELECT id, hash, created_by, mimetype, created_at FROM files WHERE id = $1', [id]);
  return rows[0];
}

export async function getFileByID(db: Queryable, id: string): Promise<FileRow | undefined> {
  const { rows } = await db.query<FileRow>('SELECT * FROM files WHERE id = $1', [id]);
  return rows[0];
}

/** Inserts the file unless this creator already uploaded the same bytes; returns the row and whether it is new. */
export async function insertFileOrGetExisting(
  db: Queryable,
  p: { id: string; hash: string; createdBy: string; mimetype: string; data: Buffer; now: Date },
): Promise<{ id: string; created: boolean }> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO files (id, hash, created_by, mimetype, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (hash, created_by) DO NOTHING RETURNING id`,
    [p.id, p.hash, p.createdBy, p.mimetype, p.data, p.now],
  );
  if (rows[0]) return { id: rows[0].id, created: true };
  const existing = await db.query<{ id: string }>('SELECT id FROM files WHERE hash = $1 AND created_by = $2', [p.hash, p.createdBy]);
  return { id: (existing.rows[0] as { id: string }).id, created: false };
}
