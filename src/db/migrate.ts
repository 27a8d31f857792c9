import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Pool } from './pool.js';
import { inTx } from './pool.js';

/** Migrations live at the package root, beside src/ and dist/, so both the compiled server and tests find them. */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

// Any constant works; it only has to be the same for every kiln process migrating one database.
const MIGRATION_LOCK_KEY = 7_451_288_031;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{6}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (f) => ({ version: Number(f.slice(0, 6)), name: f.replace(/\.sql$/, ''), sql: await readFile(path.join(dir, f), 'utf8') })),
  );
}

/**
 * Applies every pending migration, forward only, in one transaction under a transaction-scoped advisory lock: a second
 * server starting on the same database waits for the lock, then finds nothing left to do.
 * Returns the versions this call applied.
 */
export async function migrate(pool: Pool, dir = MIGRATIONS_DIR): Promise<number[]> {
  const migrations = await loadMigrations(dir);
  return inTx(pool, async (tx) => {
    // Migrations may rewrite big tables: the pool's per-statement timeout does not apply to them.
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await tx.query(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      done.push(m.version);
    }
    return done;
  });
}
