import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { loadMigrations, migrate, MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { createEmptyDatabase, type TestDatabase } from '../harness/db.js';

async function withPool<T>(url: string, fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(url, 2);
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

async function tableExists(pool: Pool, name: string): Promise<boolean> {
  const { rows } = await pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name]);
  return rows[0]?.t != null;
}

describe('migrations', () => {
  const dbs: TestDatabase[] = [];
  const fresh = async () => {
    const db = await createEmptyDatabase();
    dbs.push(db);
    return db;
  };
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-migrations-'));
  });
  after(async () => {
    for (const db of dbs) await db.drop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('names every file in migrations/ so the runner picks it up, with unique increasing versions', async () => {
    const sql = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
    assert.ok(sql.length > 0);
    for (const f of sql) assert.match(f, /^\d{6}_[a-z0-9_]+\.sql$/, `${f} would be skipped by the runner`);
    const loaded = await loadMigrations();
    assert.equal(loaded.length, sql.length);
    const versions = loaded.map((m) => m.version);
    assert.deepEqual(versions, [...new Set(versions)].sort((a, b) => a - b), 'versions are unique and sorted');
  });

  it('applies every migration on an empty database, then nothing on a second run', async () => {
    const db = await fresh();
    const all = (await loadMigrations()).map((m) => m.version);
    await withPool(db.url, async (pool) => {
      assert.deepEqual(await migrate(pool), all);
      assert.deepEqual(await migrate(pool), []);
      const { rows } = await pool.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), all);
      assert.ok(await tableExists(pool, 'users'));
    });
  });

  it('migrates once when several servers start on one database at the same moment', async () => {
    const db = await fresh();
    const all = (await loadMigrations()).map((m) => m.version);
    const pools = [1, 2, 3, 4].map(() => createPool(db.url, 2));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      assert.equal(results.filter((r) => r.length > 0).length, 1, `exactly one applied: ${JSON.stringify(results)}`);
      assert.deepEqual(results.flat().sort((a, b) => a - b), all);
      const { rows } = await (pools[0] as Pool).query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(rows[0]?.n, all.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('applies pending migrations in one transaction: a failing one leaves nothing behind', async () => {
    const db = await fresh();
    const dir = path.join(tmp, 'set');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await writeFile(path.join(dir, '000001_first.sql'), 'CREATE TABLE first_table (id int);');
    await writeFile(path.join(dir, '000002_second.sql'), 'CREATE TABLE second_table (id int;');
    await writeFile(path.join(dir, 'README.md'), 'not a migration');
    await writeFile(path.join(dir, '3_misnamed.sql'), 'SELECT 1/0;');
    await withPool(db.url, async (pool) => {
      await assert.rejects(migrate(pool, dir), /syntax error/);
      assert.equal(await tableExists(pool, 'first_table'), false, 'the first migration was rolled back with the second');
      assert.equal(await tableExists(pool, 'schema_migrations'), false);

      await writeFile(path.join(dir, '000002_second.sql'), 'CREATE TABLE second_table (id int);');
      assert.deepEqual(await migrate(pool, dir), [1, 2]);
      assert.ok(await tableExists(pool, 'second_table'));
      // Forward only: a new file is applied on its own later.
      await writeFile(path.join(dir, '000003_third.sql'), 'CREATE TABLE third_table (id int);');
      assert.deepEqual(await migrate(pool, dir), [3]);
      const { rows } = await pool.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.name), ['000001_first', '000002_second', '000003_third']);
    });
  });
});
