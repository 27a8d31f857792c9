import { randomBytes } from 'node:crypto';

import pg from 'pg';

/** The cluster and template database that scripts/test.mjs prepared for this run. */
function adminUrl(): string {
  const url = process.env.KILN_TEST_PG_URL;
  if (!url) throw new Error('KILN_TEST_PG_URL is not set: run the suite with `npm test` (scripts/test.mjs starts PostgreSQL)');
  return url;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template: isolation for one test file, in milliseconds. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = adminUrl();
  const template = process.env.KILN_TEST_TEMPLATE_DB ?? 'kiln_template';
  const name = `t_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
        break;
      } catch (e) {
        // Two clones starting at the same instant can collide on the template; try again shortly.
        if (attempt > 20 || !/being accessed by other users/.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  } finally {
    await c.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.href,
    name,
    async drop() {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      try {
        await d.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await d.end();
      }
    },
  };
}

/** A second, empty database (not migrated), for tests of the migration runner itself. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  const admin = adminUrl();
  const name = `e_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.href,
    name,
    async drop() {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await d.end();
    },
  };
}
