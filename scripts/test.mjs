// Runs kiln's test suite: one embedded PostgreSQL cluster for the whole run, a migrated template database that each
// test file clones, then Node's test runner over an explicit file list (Node 20 does not expand globs itself).
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { startEmbeddedPostgres } from '../dist/db/embeddedPostgres.js';
import { migrate } from '../dist/db/migrate.js';
import { createPool } from '../dist/db/pool.js';
import { createLogger } from '../dist/lib/logger.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function findTests(dir) {
  const out = [];
  for (const e of await readdir(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await findTests(rel)));
    else if (e.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

const requested = process.argv.slice(2);
const files = requested.length ? requested : [...(await findTests('test')), ...(await findTests('src'))].sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// /tmp, not the checkout: the postgres OS user must be able to enter the data dir when the suite runs as root.
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-test-'));
const logger = createLogger(process.env.KILN_TEST_LOG ?? 'warn');
const cluster = await startEmbeddedPostgres({ dataDir, logger, ephemeral: true, maxConnections: 400 });
let code = 1;
try {
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query('CREATE DATABASE kiln_template');
  await admin.end();
  const templateUrl = new URL(cluster.url);
  templateUrl.pathname = '/kiln_template';
  const pool = createPool(templateUrl.href, 2);
  await migrate(pool);
  await pool.end();

  const concurrency = process.env.KILN_TEST_CONCURRENCY ?? String(Math.max(2, os.availableParallelism()));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
    { cwd: root, stdio: 'inherit', env: { ...process.env, KILN_TEST_PG_URL: cluster.url, KILN_TEST_TEMPLATE_DB: 'kiln_template' } },
  );
  code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
} finally {
  await cluster.stop();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(code);
