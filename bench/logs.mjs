/* global fetch */
// Figure 3: log ingestion (a job emitting 200,000 lines) and 100 concurrent followers of one build, delivery latency
// from the daemon's flush to the client's receipt; references: bare bulk INSERTs, a bare WebSocket fan-out.
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';

import { KilnClient } from '../dist/sdk/client.js';

import { mergeCpu, startCpu } from './lib/cpu.mjs';
import { startBare, startKiln, startSampler } from './lib/procs.mjs';
import { createTemplate, createWorkspaces, waitIdle } from './lib/setup.mjs';
import { percentile, summarize } from './lib/stats.mjs';

const LINES = 200_000;
const FOLLOWERS = 100;
const FOLLOW_LINES = 1000;
const FOLLOW_DELAY_MS = 5;

/**
 * Bare reference: the same rows, inserted as the server does (unnest, 2,000 a statement), from one connection, into a
 * table of the same shape as kiln's: a logged (WAL) table with the same columns, defaults, checks and indexes, and the
 * same foreign key to the jobs.
 */
async function bareInsert(db, jobId) {
  await db.query('CREATE TABLE IF NOT EXISTS bench_logs (LIKE provisioner_job_logs INCLUDING ALL)');
  await db.query(`DO $$ BEGIN
    ALTER TABLE bench_logs ADD CONSTRAINT bench_logs_job FOREIGN KEY (job_id) REFERENCES provisioner_jobs (id) ON DELETE CASCADE;
  EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  await db.query('TRUNCATE bench_logs');
  const t0 = performance.now();
  for (let i = 0; i < LINES; i += 2000) {
    const n = Math.min(2000, LINES - i);
    const now = new Date();
    await db.query(
      `INSERT INTO bench_logs (id, job_id, created_at, source, level, stage, output)
       SELECT nextval('provisioner_job_logs_id_seq'), $1, t.c, t.s, t.l, t.st, t.o FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(c, s, l, st, o)`,
      [jobId, Array(n).fill(now), Array(n).fill('provisioner'), Array(n).fill('info'), Array(n).fill('Starting workspace'), Array.from({ length: n }, (_, k) => `l${i + k}`)],
    );
  }
  return (LINES * 1000) / (performance.now() - t0);
}

/** Opens `count` sockets, then calls `go()`; resolves with the latencies of every line created after all were open. */
async function follow(url, headers, count, go) {
  const lat = [];
  let openAt = Infinity;
  const sockets = Array.from({ length: count }, () => new WebSocket(url, { headers }));
  const closed = sockets.map((s) => new Promise((resolve, reject) => {
    s.on('message', (data) => {
      const now = Date.now();
      const line = JSON.parse(String(data));
      const created = Date.parse(line.created_at);
      if (created >= openAt) lat.push(now - created);
    });
    s.on('close', resolve);
    s.on('error', reject);
  }));
  await Promise.all(sockets.map((s) => new Promise((resolve, reject) => {
    s.once('open', resolve);
    s.once('error', reject);
  })));
  openAt = Date.now();
  await go();
  await Promise.all(closed);
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), n: lat.length };
}

export async function logBenchmarks({ pgUrl, db, token, orgId, runs, memory, dataDir, tmp, cpuProfDir, pgPid }) {
  const figures = [];
  // The default per-job cap (1 MiB, as Coder's) would stop a 200,000-line job early; the benchmark raises it.
  let kiln = await startKiln({ postgresUrl: pgUrl, daemons: 3, dataDir, maxJobLogBytes: 256 * 1024 * 1024 }, { cpuProfDir });
  let client = new KilnClient(kiln.url, { token });
  let bare;
  try {
    const lines = Array.from({ length: LINES }, (_, i) => ({ output: `l${i}` }));
    const big = await createTemplate(client, orgId, { start: { logs: lines }, stop: { logs: lines } });
    const [ws] = await createWorkspaces(client, orgId, big.id, 1, 'logs');
    await waitIdle(db);
    const ingest = [];
    const ref = [];
    let sampler = startSampler(kiln.pid, db);
    const ingestCpu = [];
    for (let i = 0; i < runs; i++) {
      const c = startCpu(kiln.pid, pgPid);
      const b = await client.createWorkspaceBuild(ws.id, { transition: i % 2 === 0 ? 'stop' : 'start' });
      await waitIdle(db);
      ingestCpu.push(c.stop());
      const { rows } = await db.query(
        `SELECT extract(epoch FROM j.completed_at - j.started_at) * 1000 AS ms, j.error, (SELECT count(*)::int FROM provisioner_job_logs l WHERE l.job_id = j.id AND l.source = 'provisioner') AS n
         FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id WHERE b.id = $1`,
        [b.id],
      );
      if (rows[0].error || rows[0].n !== LINES) throw new Error(`log job: ${rows[0].n} lines stored, error ${rows[0].error}`);
      ingest.push((LINES * 1000) / Number(rows[0].ms));
      ref.push(await bareInsert(db, b.job.id));
    }
    memory.push({ load: `a job logging ${LINES.toLocaleString('en-US')} lines`, targetMb: 200, ...sampler.stop() });
    await db.query('DROP TABLE IF EXISTS bench_logs');
    const v = summarize(ingest);
    figures.push({ key: 'logs.ingest', section: '3. Logs', label: `log lines/s stored (${LINES.toLocaleString('en-US')}-line job)`, unit: 'lines/s', note: 'job started_at → completed_at', value: v, ref: { label: 'bare INSERT … unnest, 2,000 rows a statement, same table shape', value: summarize(ref) }, target: { text: '≥ 0.8× the bare insert', met: v.median >= 0.8 * summarize(ref).median }, cpu: mergeCpu(ingestCpu) });

    const slow = await createTemplate(client, orgId, {
      start: { logs: Array.from({ length: FOLLOW_LINES }, (_, i) => ({ output: `follow ${i}` })), delay_ms: FOLLOW_DELAY_MS },
      stop: { logs: Array.from({ length: FOLLOW_LINES }, (_, i) => ({ output: `follow ${i}` })), delay_ms: FOLLOW_DELAY_MS },
    });
    const [fws] = await createWorkspaces(client, orgId, slow.id, 1, 'follow');
    await waitIdle(db);
    // The follower figure's server: its daemons flush every line at once (daemon options, no patching), so a line's
    // created_at (stamped when the provisioner emits it) → receipt is the delivery path, not the 250 ms batching.
    await kiln.stop();
    kiln = await startKiln({ postgresUrl: pgUrl, daemons: 3, dataDir, maxJobLogBytes: 256 * 1024 * 1024, flushEachLine: true, followers: FOLLOWERS }, { cpuProfDir });
    client = new KilnClient(kiln.url, { token });
    bare = await startBare(`${tmp}/build.json`, `${tmp}/build.json`);
    const fol = [];
    const folRef = [];
    sampler = startSampler(kiln.pid, db);
    const headers = { Cookie: `coder_session_token=${token}` };
    const followCpu = [];
    for (let i = 0; i < runs; i++) {
      const b = await client.createWorkspaceBuild(fws.id, { transition: i % 2 === 0 ? 'stop' : 'start' });
      const wsUrl = `${kiln.url.replace('http:', 'ws:')}/api/v2/workspacebuilds/${b.id}/logs?follow=true`;
      const c = startCpu(kiln.pid, pgPid);
      fol.push(await follow(wsUrl, headers, FOLLOWERS, async () => {}));
      followCpu.push(c.stop());
      await waitIdle(db);
      const bUrl = `${bare.url.replace('http:', 'ws:')}/bcast`;
      folRef.push(await follow(bUrl, {}, FOLLOWERS, () => fetch(`${bare.url}/bcast/start?n=${FOLLOW_LINES}&ms=${FOLLOW_DELAY_MS}`)));
    }
    memory.push({ load: `${FOLLOWERS} followers of one build`, targetMb: 200, ...sampler.stop() });
    const p99 = summarize(fol.map((f) => f.p99));
    const note = `${FOLLOWERS} WebSockets, ${FOLLOW_LINES} lines ${FOLLOW_DELAY_MS} ms apart; ~${Math.round(summarize(fol.map((f) => f.n)).median).toLocaleString('en-US')} deliveries measured per run`;
    figures.push({ key: 'follow.p50', section: '3. Logs', label: 'follower delivery p50 (line → receipt)', unit: 'ms', note, value: summarize(fol.map((f) => f.p50)), ref: { label: 'bare ws fan-out p50', value: summarize(folRef.map((f) => f.p50)) } });
    figures.push({ key: 'follow.p99', section: '3. Logs', label: 'follower delivery p99 (line → receipt)', unit: 'ms', value: p99, ref: { label: 'bare ws fan-out p99', value: summarize(folRef.map((f) => f.p99)) }, target: { text: '≤ 3× bare fan-out p99', met: p99.median <= 3 * summarize(folRef.map((f) => f.p99)).median }, cpu: mergeCpu(followCpu) });
  } finally {
    await bare?.stop();
    await kiln.stop();
  }
  return figures;
}
