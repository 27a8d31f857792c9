/* global fetch, Buffer */
// Figures 1 and 5: API reads and writes under autocannon, next to a bare Fastify serving the same bytes; GET build
// latency as the builds table grows.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { cannon } from './lib/cannon.mjs';
import { mergeCpu, startCpu } from './lib/cpu.mjs';
import { startBare, startSampler } from './lib/procs.mjs';
import { createTemplate, createWorkspaces, NOOP_ECHO, RICH_ECHO, waitFor, waitIdle } from './lib/setup.mjs';
import { summarize } from './lib/stats.mjs';

async function buildDone(client, id) {
  return waitFor(async () => {
    const b = await client.workspaceBuild(id);
    return ['succeeded', 'failed', 'canceled'].includes(b.job.status) ? b : undefined;
  }, `build ${id}`);
}

/** Inserts completed no-op builds (job + build rows, by SQL) into `filler` until the table holds `target` builds. */
export async function growBuildsTo(db, fillerBuildId, target) {
  const { rows } = await db.query('SELECT count(*)::int AS n, (SELECT max(build_number) FROM workspace_builds WHERE workspace_id = (SELECT workspace_id FROM workspace_builds WHERE id = $1))::int AS top FROM workspace_builds', [fillerBuildId]);
  const missing = target - rows[0].n;
  if (missing <= 0) return rows[0].n;
  await db.query(
    `WITH src AS (
       SELECT b.workspace_id, b.template_version_id, b.initiator_id, j.organization_id, j.provisioner, j.file_id, j.tags
       FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id WHERE b.id = $1),
     g AS (SELECT gen_random_uuid() AS jid, gen_random_uuid() AS bid, n FROM generate_series($2::int, $3::int) n),
     jobs AS (
       INSERT INTO provisioner_jobs (id, created_at, updated_at, started_at, completed_at, organization_id, initiator_id, provisioner, type, input, file_id, tags)
       SELECT g.jid, now(), now(), now(), now(), src.organization_id, src.initiator_id, src.provisioner, 'workspace_build',
              jsonb_build_object('workspace_build_id', g.bid, 'dry_run', false), src.file_id, src.tags
       FROM g, src RETURNING id)
     INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, job_id)
     SELECT g.bid, now(), now(), src.workspace_id, src.template_version_id, g.n, CASE WHEN g.n % 2 = 0 THEN 'stop' ELSE 'start' END, src.initiator_id, g.jid
     FROM g, src`,
    [fillerBuildId, rows[0].top + 1, rows[0].top + missing],
  );
  // What autovacuum does shortly after a bulk insert; left to it, it runs during the measurement instead.
  await db.query('VACUUM ANALYZE provisioner_jobs, workspace_builds');
  return target;
}

/** Interleaved runs against the bare reference and kiln, so both sides see the same background noise. */
async function pairs({ kiln, bare, db, token, runs, pgPid }, p, duration) {
  const k = [];
  const b = [];
  const cpu = [];
  const sampler = startSampler(kiln.pid, db);
  for (let i = 0; i < runs; i++) {
    b.push(await cannon({ url: bare.url, path: p, duration }));
    const c = startCpu(kiln.pid, pgPid);
    k.push(await cannon({ url: kiln.url, path: p, token, duration }));
    cpu.push(c.stop());
  }
  return { k, b, peak: sampler.stop(), cpu: mergeCpu(cpu) };
}

async function saveBytes(kiln, token, p, file) {
  const res = await fetch(kiln.url + p, { headers: { 'coder-session-token': token } });
  if (!res.ok) throw new Error(`GET ${p}: ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  await writeFile(file, bytes);
  return bytes.length;
}

/** The workspaces figure 1 and 5 read: one whose build has 2 resources, 2 agents, 4 apps; one that takes fillers. */
export async function prepareReads({ client, orgId }) {
  const rich = await createTemplate(client, orgId, RICH_ECHO);
  const noop = await createTemplate(client, orgId, NOOP_ECHO);
  const [richWs] = await createWorkspaces(client, orgId, rich.id, 1, 'rich');
  const [fillerWs] = await createWorkspaces(client, orgId, noop.id, 1, 'filler');
  const richBuild = await buildDone(client, richWs.latest_build.id);
  await buildDone(client, fillerWs.latest_build.id);
  const nAgents = richBuild.resources.reduce((a, r) => a + r.agents.length, 0);
  const nApps = richBuild.resources.reduce((a, r) => a + r.agents.reduce((b, ag) => b + ag.apps.length, 0), 0);
  if (richBuild.resources.length !== 2 || nAgents !== 2 || nApps !== 4) throw new Error(`rich build: ${richBuild.resources.length}/${nAgents}/${nApps} resources/agents/apps`);
  return { richWs, richBuild, fillerWsId: fillerWs.id, fillerBuildId: fillerWs.latest_build.id, buildPath: `/api/v2/workspacebuilds/${richBuild.id}`, noopTemplateId: noop.id };
}

/**
 * SQL statements per request, as the server counts them (its per-request counter, kiln_http_request_sql_statements on
 * /metrics): the sum and count for the route over 100 sequential GETs.
 */
/** The server's statement counter for one route so far: { sum, count } (kiln_http_request_sql_statements). */
async function routeStatements(kiln, method, route) {
  const text = await (await fetch(kiln.url + '/metrics')).text();
  const v = (suffix) => Number(text.split('\n').find((l) => l.startsWith(`kiln_http_request_sql_statements_${suffix}{method="${method}",route="${route}"}`))?.split(' ').pop() ?? 0);
  return { sum: v('sum'), count: v('count') };
}

async function queriesPerRequest({ kiln, token }, p, route) {
  const read = () => routeStatements(kiln, 'GET', route);
  const before = await read();
  for (let i = 0; i < 100; i++) await fetch(kiln.url + p, { headers: { 'coder-session-token': token } }).then((r) => r.arrayBuffer());
  const after = await read();
  return (after.sum - before.sum) / Math.max(1, after.count - before.count);
}

/** Figure 1, GET build: kiln vs bare Fastify serving the same bytes. */
export async function getBuildBenchmark(o) {
  const { kiln, token, tmp, long, memory, reads, db, pgUrl, runs } = o;
  const buildFile = path.join(tmp, 'build.json');
  const size = await saveBytes(kiln, token, reads.buildPath, buildFile);
  await db.query('CREATE TABLE IF NOT EXISTS bench_json (id int PRIMARY KEY, body text NOT NULL)');
  await db.query('INSERT INTO bench_json VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body', [await readFile(buildFile, 'utf8')]);
  const bare = await startBare(buildFile, buildFile, pgUrl);
  try {
    await cannon({ url: kiln.url, path: reads.buildPath, token, duration: 2 }); // warm-up (JIT, pool)
    await cannon({ url: bare.url, path: reads.buildPath, duration: 2 });
    await cannon({ url: bare.url, path: '/select' + reads.buildPath, duration: 2 });
    const g = await pairs({ ...o, bare }, reads.buildPath, long);
    memory.push({ load: 'GET build, 50 connections', ...g.peak });
    const sel = [];
    for (let i = 0; i < runs; i++) sel.push(await cannon({ url: bare.url, path: '/select' + reads.buildPath, duration: long }));
    const q = await queriesPerRequest(o, reads.buildPath, '/api/v2/workspacebuilds/:workspacebuild');
    const figures = readFigures('GET /workspacebuilds/{id}', `${size} B body, ${q.toFixed(1)} SQL statements per request (counted by the server),`, g, long, 'build');
    figures.splice(1, 0, {
      key: 'build.rps_select', section: '1. API', label: 'GET /workspacebuilds/{id} req/s vs one SELECT', unit: 'req/s',
      note: `${long} s × 50 conn; reference: bare Fastify + one prepared SELECT of the same bytes by primary key, pool of 20`,
      value: figures[0].value, ref: { label: 'bare Fastify + one prepared SELECT', value: summarize(sel.map((r) => r.rps)) },
    });
    const ratioSel = figures[1].value.median / figures[1].ref.value.median;
    figures[1].target = { text: '≥ 0.8× of one SELECT', met: ratioSel >= 0.8 };
    figures.push({ key: 'build.statements', section: '1. API', label: 'statements per GET build', unit: 'statements', value: summarize([q]), target: { text: '≤ 1', met: q <= 1 } });
    return figures;
  } finally {
    await bare.stop();
  }
}

/** Figure 1, the list (25 builds) and POST (one build per workspace per run, 50 in flight). */
export async function listAndPostBenchmarks(o) {
  const { kiln, db, client, orgId, token, tmp, runs, short, memory, reads } = o;
  const figures = [];
  for (let i = 0; i < 24; i++) {
    const b = await client.createWorkspaceBuild(reads.richWs.id, { transition: i % 2 === 0 ? 'stop' : 'start' });
    await buildDone(client, b.id);
  }
  const listPath = `/api/v2/workspaces/${reads.richWs.id}/builds?limit=25`;
  const listFile = path.join(tmp, 'list.json');
  const buildFile = path.join(tmp, 'build.json');
  const size = await saveBytes(kiln, token, listPath, listFile);
  const bare = await startBare(buildFile, listFile);
  try {
    const l = await pairs({ ...o, bare }, listPath, short);
    memory.push({ load: 'GET builds?limit=25, 50 connections', ...l.peak });
    figures.push(...readFigures('GET /workspaces/{id}/builds?limit=25', `${size} B body,`, l, short, 'list'));

    const wss = await createWorkspaces(client, orgId, reads.noopTemplateId, 400, 'post');
    await waitIdle(db);
    const paths = wss.map((w) => `/api/v2/workspaces/${w.id}/builds`);
    const post = [];
    const postRef = [];
    const sampler = startSampler(kiln.pid, db);
    const cpu = [];
    const postRoute = '/api/v2/workspaces/:workspace/builds';
    const stmts0 = await routeStatements(kiln, 'POST', postRoute);
    for (let i = 0; i < runs; i++) {
      postRef.push(await cannon({ url: bare.url, path: paths[0], method: 'POST', body: { transition: 'stop' }, duration: short }));
      const c = startCpu(kiln.pid, o.pgPid);
      post.push(await cannon({ url: kiln.url, paths, method: 'POST', token, body: { transition: i % 2 === 0 ? 'stop' : 'start' }, amount: paths.length }));
      cpu.push(c.stop());
      await waitIdle(db);
    }
    memory.push({ load: 'POST builds, 50 connections (3 daemons building)', ...sampler.stop() });
    if (post.some((r) => r.bad)) throw new Error(`POST builds: ${post.map((r) => r.bad).join('/')} non-2xx responses`);
    const stmts1 = await routeStatements(kiln, 'POST', postRoute);
    const perPost = (stmts1.sum - stmts0.sum) / Math.max(1, stmts1.count - stmts0.count);
    figures.push(...readFigures('POST /workspaces/{id}/builds', `${paths.length} POSTs (one per workspace), ${perPost.toFixed(1)} SQL statements per POST (counted by the server),`, { k: post, b: postRef, cpu: mergeCpu(cpu) }, short, 'post'));
  } finally {
    await bare.stop();
  }
  return figures;
}

function readFigures(label, note, { k, b, cpu }, duration, key) {
  const rps = summarize(k.map((r) => r.rps));
  const ref = summarize(b.map((r) => r.rps));
  const out = [
    { key: `${key}.rps`, section: '1. API', label: `${label} req/s`, note: `${note} ${key === 'post' ? 'ref' : ''} ${duration} s × 50 conn`.replace(/\s+/g, ' '), unit: 'req/s', value: rps, ref: { label: 'bare Fastify, same bytes', value: ref } },
    { key: `${key}.p50`, section: '1. API', label: `${label} p50`, unit: 'ms', value: summarize(k.map((r) => r.p50)), ref: { label: 'bare Fastify p50', value: summarize(b.map((r) => r.p50)) } },
    { key: `${key}.p99`, section: '1. API', label: `${label} p99`, unit: 'ms', value: summarize(k.map((r) => r.p99)), ref: { label: 'bare Fastify p99', value: summarize(b.map((r) => r.p99)) } },
  ];
  if (cpu) for (const f of out) f.cpu = cpu;
  if (key === 'build') {
    out[0].target = { text: '≥ 25% of bare', met: rps.median / ref.median >= 0.25 };
    out[2].target = { text: '≤ 25 ms', met: out[2].value.median <= 25 };
  }
  return out;
}

/**
 * Inserts workspaces, each with one completed no-op build (job + build rows, by SQL, copied from `modelBuildId`'s),
 * until the table holds `target` workspaces.
 */
export async function growWorkspacesTo(db, modelBuildId, target) {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM workspaces');
  const missing = target - rows[0].n;
  if (missing <= 0) return rows[0].n;
  await db.query(
    `WITH src AS (
       SELECT w.owner_id, w.organization_id, w.template_id, b.template_version_id, b.initiator_id, j.provisioner, j.file_id, j.tags
       FROM workspace_builds b JOIN workspaces w ON w.id = b.workspace_id JOIN provisioner_jobs j ON j.id = b.job_id WHERE b.id = $1),
     g AS (SELECT gen_random_uuid() AS wid, gen_random_uuid() AS jid, gen_random_uuid() AS bid, n FROM generate_series(1, $2::int) n),
     ws AS (
       INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name, last_used_at)
       SELECT g.wid, now() - make_interval(secs => g.n), now(), src.owner_id, src.organization_id, src.template_id, 'grow-' || left(g.wid::text, 13), now()
       FROM g, src RETURNING id),
     jobs AS (
       INSERT INTO provisioner_jobs (id, created_at, updated_at, started_at, completed_at, organization_id, initiator_id, provisioner, type, input, file_id, tags)
       SELECT g.jid, now(), now(), now(), now(), src.organization_id, src.initiator_id, src.provisioner, 'workspace_build',
              jsonb_build_object('workspace_build_id', g.bid, 'dry_run', false), src.file_id, src.tags
       FROM g, src RETURNING id)
     INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, job_id)
     SELECT g.bid, now(), now(), g.wid, src.template_version_id, 1, 'start', src.initiator_id, g.jid
     FROM g, src WHERE (SELECT count(*) FROM ws) > 0 AND (SELECT count(*) FROM jobs) > 0`,
    [modelBuildId, missing],
  );
  // What autovacuum does shortly after a bulk insert; left to it, it runs during the measurement instead.
  await db.query('VACUUM ANALYZE workspaces, provisioner_jobs, workspace_builds');
  return target;
}

/**
 * Figure 5, figures that can grow: GET /workspaces (a page of 25) at 100, 1,000 and 10,000 workspaces, and
 * GET builds?limit=25 of one workspace at 100, 1,000 and 10,000 builds; p50 next to the same figure at 100.
 */
export async function growthBenchmarks({ kiln, db, token, fillerWsId, fillerBuildId, runs, short, pgPid }) {
  const figures = [];
  // Builds first: the workspaces series adds a build per workspace.
  const series = [
    { key: 'growth.builds', what: 'builds', path: `/api/v2/workspaces/${fillerWsId}/builds?limit=25`, grow: (n) => growBuildsTo(db, fillerBuildId, n), label: 'GET builds?limit=25' },
    { key: 'growth.workspaces', what: 'workspaces', path: '/api/v2/workspaces?limit=25', grow: (n) => growWorkspacesTo(db, fillerBuildId, n), label: 'GET /workspaces?limit=25' },
  ];
  for (const s of series) {
    const at = {};
    for (const n of [100, 1000, 10000]) {
      const count = await s.grow(n);
      if (count > n) throw new Error(`growth: already ${count} ${s.what} before the ${n} point`);
      await cannon({ url: kiln.url, path: s.path, token, duration: 1 });
      const r = [];
      const cpu = [];
      for (let i = 0; i < runs; i++) {
        const c = startCpu(kiln.pid, pgPid);
        r.push(await cannon({ url: kiln.url, path: s.path, token, duration: short }));
        cpu.push(c.stop());
      }
      at[n] = { p50: summarize(r.map((x) => x.p50)), p99: summarize(r.map((x) => x.p99)), rps: summarize(r.map((x) => x.rps)), cpu: mergeCpu(cpu) };
    }
    for (const n of [100, 1000, 10000]) {
      const row = { key: `${s.key}.${n}`, section: '5. Growth', label: `${s.label} p50 at ${n.toLocaleString('en-US')} ${s.what}`, note: `${short} s × 50 conn; p99 ${at[n].p99.median} ms; ${Math.round(at[n].rps.median)} req/s`, unit: 'ms', value: at[n].p50, ref: { label: `same at 100 ${s.what}`, value: at[100].p50 }, cpu: at[n].cpu };
      if (n === 10000) row.target = { text: '≤ 1.2× of at 100', met: at[n].p50.median <= 1.2 * at[100].p50.median };
      figures.push(row);
    }
  }
  return figures;
}
