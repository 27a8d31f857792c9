// Figure 2: no-op build throughput (create → succeeded) with 3, 8 and 32 built-in daemons, and enqueue → acquire
// latency (job created_at → started_at), next to a bare SQL queue doing the same cycle on the same PostgreSQL.
import { performance } from 'node:perf_hooks';
import { KilnClient } from '../dist/sdk/client.js';

import { mergeCpu, startCpu } from './lib/cpu.mjs';
import { startKiln, startSampler } from './lib/procs.mjs';
import { pool, waitIdle } from './lib/setup.mjs';
import { percentile, summarize } from './lib/stats.mjs';

async function jobTimes(db, buildIds) {
  const { rows } = await db.query(
    `SELECT extract(epoch FROM j.created_at) * 1000 AS c, extract(epoch FROM j.started_at) * 1000 AS s, extract(epoch FROM j.completed_at) * 1000 AS d, j.error
     FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id WHERE b.id = ANY($1::uuid[])`,
    [buildIds],
  );
  const failed = rows.filter((r) => r.error).length;
  if (failed) throw new Error(`${failed} no-op builds failed: ${rows.find((r) => r.error).error}`);
  const created = Math.min(...rows.map((r) => Number(r.c)));
  const done = Math.max(...rows.map((r) => Number(r.d)));
  const waits = rows.map((r) => Number(r.s) - Number(r.c));
  return { perSec: (rows.length * 1000) / (done - created), p50: percentile(waits, 0.5), p99: percentile(waits, 0.99) };
}

/** The floor: the same enqueue → SKIP LOCKED acquire → complete cycle in bare SQL, `workers` connections. */
async function bareQueue(db, pgPool, workers, n) {
  await db.query('CREATE TABLE IF NOT EXISTS bench_queue (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT clock_timestamp(), started_at timestamptz, completed_at timestamptz)');
  await db.query('TRUNCATE bench_queue');
  let produced = 0;
  let finished = 0;
  const t0 = performance.now();
  const producer = pool(Array.from({ length: n }), 50, async () => {
    await pgPool.query('INSERT INTO bench_queue DEFAULT VALUES');
    produced++;
  });
  const worker = async () => {
    while (finished < n) {
      const { rows } = await pgPool.query(
        'UPDATE bench_queue SET started_at = clock_timestamp() WHERE id = (SELECT id FROM bench_queue WHERE started_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id',
      );
      if (rows.length === 0) {
        if (produced >= n && finished >= n) break;
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      await pgPool.query('UPDATE bench_queue SET completed_at = clock_timestamp() WHERE id = $1', [rows[0].id]);
      finished++;
    }
  };
  await Promise.all([producer, ...Array.from({ length: workers }, worker)]);
  return (n * 1000) / (performance.now() - t0);
}

export async function buildBenchmarks({ pgUrl, db, makePool, token, runs, memory, dataDir, pgPid }) {
  const figures = [];
  const { rows } = await db.query("SELECT id FROM workspaces WHERE name LIKE 'post-%' AND NOT deleted ORDER BY name");
  const wsIds = rows.map((r) => r.id);
  let transition = 'start';
  for (const daemons of [3, 8, 32]) {
    const kiln = await startKiln({ postgresUrl: pgUrl, daemons, dataDir });
    const client = new KilnClient(kiln.url, { token });
    const thr = [];
    const cpu = [];
    const sampler = startSampler(kiln.pid, db);
    try {
      // One uncounted run first: a server that has just started compiles its code and opens its connections during
      // its first few hundred builds, which is not the throughput it keeps.
      for (let i = -1; i < runs; i++) {
        await waitIdle(db);
        transition = transition === 'start' ? 'stop' : 'start';
        if (i < 0) {
          await pool(wsIds, 50, (id) => client.createWorkspaceBuild(id, { transition }));
          await waitIdle(db);
          continue;
        }
        const c = startCpu(kiln.pid, pgPid);
        const ids = await pool(wsIds, 50, async (id) => (await client.createWorkspaceBuild(id, { transition })).id);
        await waitIdle(db);
        cpu.push(c.stop());
        thr.push(await jobTimes(db, ids));
      }
    } finally {
      memory.push({ load: `${wsIds.length} no-op builds, ${daemons} daemons`, ...sampler.stop() });
      await kiln.stop();
    }
    const refPool = makePool(Math.min(daemons, 32) + 4);
    const ref = [];
    try {
      await bareQueue(db, refPool, daemons, wsIds.length); // warm-up, as for kiln
      for (let i = 0; i < runs; i++) ref.push(await bareQueue(db, refPool, daemons, wsIds.length));
    } finally {
      await refPool.end();
    }
    figures.push({
      key: `throughput.${daemons}`, section: '2. Builds', label: `no-op builds/s, ${daemons} daemons`, unit: 'builds/s',
      note: `${wsIds.length} builds per run, 50 POSTs in flight; enqueue → acquire under load p50 ${Math.round(summarize(thr.map((t) => t.p50)).median)} / p99 ${Math.round(summarize(thr.map((t) => t.p99)).median)} ms`,
      value: summarize(thr.map((t) => t.perSec)),
      ref: { label: `bare SQL queue, ${daemons} workers`, value: summarize(ref) },
      cpu: mergeCpu(cpu),
      target: daemons === 32
        ? { text: '≥ 300/s and ≥ 0.15× the bare queue', met: summarize(thr.map((t) => t.perSec)).median >= 300 && summarize(thr.map((t) => t.perSec)).median >= 0.15 * summarize(ref).median }
        : undefined,
    });
  }
  await db.query('DROP TABLE IF EXISTS bench_queue');
  return figures;
}

/** Enqueue → acquire with idle daemons: builds created one at a time, each waited for, on one workspace. */
export async function acquireLatency({ kiln, db, token, runs, workspaceId }) {
  const client = new KilnClient(kiln.url, { token });
  const p50 = [];
  const p99 = [];
  const rtt50 = [];
  const rtt99 = [];
  let transition = 'start';
  for (let i = 0; i < runs; i++) {
    const ids = [];
    for (let j = 0; j < 40; j++) {
      transition = transition === 'start' ? 'stop' : 'start';
      ids.push((await client.createWorkspaceBuild(workspaceId, { transition })).id);
      await waitIdle(db);
      await new Promise((r) => setTimeout(r, 20));
    }
    const t = await jobTimes(db, ids);
    p50.push(t.p50);
    p99.push(t.p99);
    const rtts = [];
    for (let j = 0; j < 200; j++) {
      const s = performance.now();
      await db.query('SELECT 1');
      rtts.push(performance.now() - s);
    }
    rtt50.push(percentile(rtts, 0.5));
    rtt99.push(percentile(rtts, 0.99));
  }
  const a50 = summarize(p50);
  return [
    { key: 'acquire.p50', section: '2. Builds', label: 'enqueue → acquire p50 (idle daemons)', unit: 'ms', note: '40 sequential builds per run, 3 daemons', value: a50, ref: { label: 'PostgreSQL round trip (SELECT 1) p50', value: summarize(rtt50) }, target: { text: '≤ 5 ms', met: a50.median <= 5 } },
    { key: 'acquire.p99', section: '2. Builds', label: 'enqueue → acquire p99 (idle daemons)', unit: 'ms', value: summarize(p99), ref: { label: 'SELECT 1 p99', value: summarize(rtt99) } },
  ];
}
