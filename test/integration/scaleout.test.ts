// Past one machine, with real processes: two `kiln server` replicas on ONE PostgreSQL database, two external daemons
// (`kiln provisionerd start`), one of them in its own network namespace reaching the replicas over a veth pair.
// Slow (a thousand builds); run alone: node scripts/test.mjs test/integration/scaleout.test.ts
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { KilnClient } from '../../src/sdk/client.js';
import type { ProvisionerJobLog } from '../../src/sdk/types/provisionerJobs.js';
import { createTar } from '../../src/sdk/tar.js';
import { createNetNs, netnsUnavailable, startCliProc, startDaemon, startFailoverProxy, startReplica, type NetNs, type Proc, type Replica } from '../harness/cluster.js';
import { createTestDatabase, type TestDatabase } from '../harness/db.js';
import { waitFor } from '../harness/wait.js';

const PSK = 'scaleout-test-psk-0123456789';
const HANG = '6s';
const BUILDS = Number(process.env.KILN_SCALEOUT_BUILDS ?? 1000);
const LINES = ['echo line 1', 'echo line 2', 'echo line 3', 'echo line 4', 'echo line 5'];

const netnsReason = await netnsUnavailable();
if (netnsReason) console.warn(`SKIPPING scale-out tests: ${netnsReason}`);

describe('scale-out: two replicas on one PostgreSQL, two external daemons (one in a network namespace)', { skip: netnsReason, timeout: 900_000 }, () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let ns: NetNs | undefined;
  let A: Replica;
  let B: Replica;
  const procs: Proc[] = [];
  let a: KilnClient;
  let b: KilnClient;
  let orgId: string;
  let n = 0;

  const daemon = (args: string[], opts: { netns?: string; env?: NodeJS.ProcessEnv } = {}) => {
    const p = startDaemon(args, opts);
    procs.push(p);
    return p;
  };
  const connected = (p: Proc, what: string) =>
    Promise.race([
      waitFor(() => /slot\(s\) connected to/.test(p.output()), `${what} to connect`, 30_000),
      p.exit.then(({ code }) => Promise.reject(new Error(`${what} exited (${code}):\n${p.output()}`))),
    ]);

  async function version(echo: unknown, tags?: Record<string, string>, templateId?: string) {
    const { hash } = await a.upload(createTar({ 'echo.json': JSON.stringify(echo) }));
    return a.createTemplateVersion(orgId, { storage_method: 'file', file_id: hash, provisioner: 'echo', tags, template_id: templateId });
  }
  async function jobOf(versionId: string) {
    return (await a.templateVersion(versionId)).job;
  }
  async function template(echo: unknown, tags?: Record<string, string>) {
    const v = await version(echo, tags);
    await waitFor(async () => (await jobOf(v.id)).status === 'succeeded', `import of ${v.id}`, 60_000);
    return a.createTemplate(orgId, { name: `tpl-${++n}`, template_version_id: v.id });
  }
  before(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    ns = await createNetNs();
    // Both replicas on the same database: the one the test harness cloned for this file.
    const flags = ['--provisioner-daemons', '0', '--provisioner-daemon-psk', PSK, '--job-hang-timeout', HANG];
    [A, B] = await Promise.all([startReplica(db.url, flags), startReplica(db.url, flags)]);
    procs.push(A, B);
    await new KilnClient(A.url).createFirstUser({ email: 'owner@example.com', username: 'owner', password: 'owner-password' });
    a = new KilnClient(A.url);
    await a.login('owner@example.com', 'owner-password');
    b = new KilnClient(B.url, { token: a.token as string });
    orgId = (await a.userOrganizations())[0]?.id as string;
    const hostDaemon = daemon(['--url', `${A.url},${B.url}`, '--psk', PSK, '--name', 'host-daemon', '--concurrency', '3']);
    // The second host: it knows the replicas only by the veth address.
    const nsDaemon = daemon(['--url', `http://${ns.hostIp}:${B.port},http://${ns.hostIp}:${A.port}`, '--psk', PSK, '--name', 'netns-daemon', '--concurrency', '3'], { netns: ns.name });
    await Promise.all([connected(hostDaemon, 'the host daemon'), connected(nsDaemon, 'the namespaced daemon')]);
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    await ns?.remove();
    await pool?.end();
    await db?.drop();
  });

  it(`${BUILDS} echo builds created through both replicas run exactly once each; followers on A and B get every line once`, async () => {
    const tpl = await template({ start: { logs: LINES.map((output) => ({ level: 'info', output })) } });
    const followed = new Map<string, { a: Promise<number[]>; b: Promise<number[]> }>();
    const collect = async (it: AsyncIterable<ProvisionerJobLog>) => {
      const ids: number[] = [];
      for await (const l of it) ids.push(l.id);
      return ids;
    };
    let next = 0;
    const create = async () => {
      for (let i = next++; i < BUILDS; i = next++) {
        const client = i % 2 === 0 ? a : b;
        const ws = await client.createWorkspace(orgId, 'me', { template_id: tpl.id, name: `bulk-${i}` });
        // Every 25th build is followed from both replicas, whichever daemon (and replica) runs it.
        if (i % 25 === 0) {
          const id = ws.latest_build.id;
          followed.set(ws.latest_build.job.id, { a: collect(a.followWorkspaceBuildLogs(id)), b: collect(b.followWorkspaceBuildLogs(id)) });
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, create));
    await waitFor(
      async () => (await pool.query<{ open: number }>(`SELECT count(*)::int AS open FROM provisioner_jobs WHERE type = 'workspace_build' AND completed_at IS NULL`)).rows[0]?.open === 0,
      'every build to finish',
      300_000,
      500,
    );
    const { rows: jobs } = await pool.query<{ id: string; error: string | null; worker: string; lines: number; first: number }>(
      `SELECT j.id, j.error, d.name AS worker,
              (SELECT count(*)::int FROM provisioner_job_logs l WHERE l.job_id = j.id AND l.output = 'echo line 1') AS first,
              (SELECT count(*)::int FROM provisioner_job_logs l WHERE l.job_id = j.id) AS lines
       FROM provisioner_jobs j JOIN provisioner_daemons d ON d.id = j.worker_id
       WHERE j.type = 'workspace_build'`,
    );
    assert.equal(jobs.length, BUILDS, 'every build ran on a registered daemon');
    assert.deepEqual(jobs.filter((j) => j.error), [], 'no build failed');
    // Exactly once: a job run twice would carry its script's lines twice.
    assert.deepEqual(jobs.filter((j) => j.first !== 1), [], 'each job printed its first line once');
    const lineCounts = new Set(jobs.map((j) => j.lines));
    assert.equal(lineCounts.size, 1, `every job has the same number of lines (${[...lineCounts].join(', ')})`);
    const workers = new Set(jobs.map((j) => j.worker.replace(/-\d+$/, '')));
    assert.deepEqual([...workers].sort(), ['host-daemon', 'netns-daemon'], 'both daemons took builds');
    for (const [jobId, f] of followed) {
      const { rows } = await pool.query<{ id: number }>('SELECT id FROM provisioner_job_logs WHERE job_id = $1 ORDER BY id', [jobId]);
      const ids = rows.map((r) => Number(r.id));
      assert.deepEqual(await f.a, ids, `follower on A of job ${jobId}`);
      assert.deepEqual(await f.b, ids, `follower on B of job ${jobId}`);
    }
    const daemons = await a.provisionerDaemons(orgId);
    assert.ok(daemons.some((d) => d.name.startsWith('netns-daemon') && d.key_name === 'psk' && d.status === 'idle' && d.previous_job?.status === 'succeeded'));
    const listed = await b.provisionerJobs(orgId, { status: 'succeeded', limit: 10 });
    assert.equal(listed.length, 10);
  });

  it('a tagged template version is built only by a daemon with matching tags; with none connected, matched_provisioners.count is 0', async () => {
    const v = await version({}, { kind: 'terraform' });
    assert.equal(v.matched_provisioners?.count, 0);
    // Both untagged daemons are connected and idle; neither takes it.
    const pending = await b.provisionerJobs(orgId, { status: 'pending', tags: JSON.stringify({ kind: 'terraform' }) });
    assert.deepEqual(pending.map((j) => j.id), [v.job.id]);
    assert.equal((await jobOf(v.id)).status, 'pending');
    const tagged = daemon(['--url', B.url, '--psk', PSK, '--name', 'tf-daemon', '--tag', 'kind=terraform']);
    await connected(tagged, 'the tagged daemon');
    const job = await waitFor(async () => {
      const j = await jobOf(v.id);
      return j.status === 'succeeded' ? j : undefined;
    }, 'the tagged import', 30_000);
    const daemons = await a.provisionerDaemons(orgId, { tags: JSON.stringify({ kind: 'terraform' }) });
    assert.deepEqual(daemons.map((d) => d.name), ['tf-daemon']);
    assert.equal(job.worker_id, daemons[0]?.id);
    assert.equal((await a.templateVersion(v.id)).matched_provisioners?.count, 1);
    await tagged.stop();
  });

  it('a deleted provisioner key: its daemon is refused within seconds and its running job fails with a message', async () => {
    const { key } = await a.createProvisionerKey(orgId, { name: 'doomed-key', tags: { pool: 'keyed' } });
    assert.ok((await a.provisionerKeys(orgId)).some((k) => k.name === 'doomed-key' && k.tags.pool === 'keyed'));
    const keyed = daemon(['--url', A.url, '--key', key, '--name', 'keyed-daemon']);
    await connected(keyed, 'the keyed daemon');
    const v = await version({ import: { hang: true } }, { pool: 'keyed' });
    await waitFor(async () => (await jobOf(v.id)).status === 'running', 'the keyed job to run', 30_000);
    // Deleted through the other replica: the notification reaches the daemon's.
    await b.deleteProvisionerKey(orgId, 'doomed-key');
    // "Within seconds" is the wait's own bound: the daemon is cut off by the key's deletion notice, never by a timeout
    // of its own (no test asserts a duration).
    const exit = await waitFor(() => (keyed.exited ? keyed.exit : undefined), 'the keyed daemon to be cut off within seconds', 10_000, 50);
    assert.equal(exit.code, 1, keyed.output());
    assert.match(keyed.output(), /provisioner key/);
    const job = await waitFor(async () => {
      const j = await jobOf(v.id);
      return j.status === 'failed' ? j : undefined;
    }, 'the keyed job to fail', 15_000);
    assert.match(job.error ?? '', /provisioner key "doomed-key" was deleted/);
    // It cannot come back with the deleted key.
    const again = daemon(['--url', A.url, '--key', key, '--name', 'keyed-daemon']);
    assert.equal((await again.exit).code, 1);
    assert.match(again.output(), /invalid or was deleted/);
  });

  it('a cancel through A reaches a job run through B, and the workspace watch fires on both replicas', async () => {
    const onB = daemon(['--url', B.url, '--psk', PSK, '--name', 'cancel-daemon', '--tag', 'pool=cancel']);
    await connected(onB, 'the daemon on B');
    const tpl = await template({ start: { logs: [{ level: 'info', output: 'waiting for a cancel' }], hang: true } }, { pool: 'cancel' });
    const ws = await a.createWorkspace(orgId, 'me', { template_id: tpl.id, name: 'cancel-me' });
    const statuses = { a: [] as string[], b: [] as string[] };
    const abort = new AbortController();
    const watch = async (url: string, into: string[]) => {
      const res = await fetch(`${url}/api/v2/workspaces/${ws.id}/watch`, { headers: { 'Coder-Session-Token': a.token as string }, signal: abort.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += Buffer.from(value).toString();
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(buf.slice(0, i))?.[1];
          buf = buf.slice(i + 2);
          if (data) into.push((JSON.parse(data) as { latest_build: { status: string } }).latest_build.status);
        }
      }
    };
    const watchers = [watch(A.url, statuses.a), watch(B.url, statuses.b)].map((p) => p.catch(() => {}));
    try {
      await waitFor(async () => (await a.workspaceBuildLogs(ws.latest_build.id)).some((l) => l.output === 'waiting for a cancel'), 'the build to run on B', 30_000);
      await a.cancelWorkspaceBuild(ws.latest_build.id);
      // A running build that is canceled ends `failed` with the error `canceled` (the daemon stopped it).
      await waitFor(() => statuses.a.includes('failed') && statuses.b.includes('failed'), `both watches to see the end (A: ${statuses.a.join(',')}; B: ${statuses.b.join(',')})`, 30_000);
      assert.ok(statuses.a.includes('canceling') || statuses.b.includes('canceling'), `${statuses.a} / ${statuses.b}`);
      const job = (await b.workspaceBuild(ws.latest_build.id)).job;
      assert.equal(job.error, 'canceled');
      assert.ok(job.canceled_at);
    } finally {
      abort.abort();
      await Promise.all(watchers);
      await onB.stop();
    }
  });

  it('kill -9 of a daemon mid-build: a surviving replica\'s reaper fails the job within the hang timeout, with a log line', async () => {
    const doomed = daemon(['--url', `${B.url},${A.url}`, '--psk', PSK, '--name', 'doomed-daemon', '--tag', 'pool=doomed']);
    await connected(doomed, 'the doomed daemon');
    const v = await version({ import: { logs: [{ level: 'info', output: 'about to hang' }], hang: true } }, { pool: 'doomed' });
    await waitFor(async () => (await a.templateVersionLogs(v.id)).some((l) => l.output === 'about to hang'), 'the doomed job to log', 30_000);
    await doomed.kill9();
    const job = await waitFor(async () => {
      const j = await jobOf(v.id);
      return j.status === 'failed' ? j : undefined;
    }, 'the reaper to fail the job', 30_000, 200);
    assert.match(job.error ?? '', /detected as hung for 6 seconds/);
    const logs = await b.templateVersionLogs(v.id);
    // Two replicas run reapers; the advisory lock (and the row lock) let exactly one of them fail the job.
    assert.equal(logs.filter((l) => l.log_level === 'error' && /kiln: Build has been detected as hung/.test(l.output)).length, 1);
    assert.equal(logs.filter((l) => l.output === 'about to hang').length, 1);
  });

  it('kill -9 of the replica a daemon is connected to: it reconnects to the other, the build completes, and kiln logs -f resumes without a gap or a duplicate', async () => {
    const C = await startReplica(db.url, ['--provisioner-daemons', '0', '--provisioner-daemon-psk', PSK, '--job-hang-timeout', HANG]);
    procs.push(C);
    const mover = daemon(['--url', `${C.url},${B.url}`, '--psk', PSK, '--name', 'mover', '--tag', 'pool=failover']);
    await connected(mover, 'the failover daemon');
    assert.match(mover.output(), new RegExp(`connected to ${C.url}`));
    const steps = Array.from({ length: 16 }, (_, i) => `step ${i + 1} of 16`);
    const v = await version({ start: { logs: steps.map((output) => ({ level: 'info', output })), delay_ms: 250 } }, { pool: 'failover' });
    await waitFor(async () => (await jobOf(v.id)).status === 'succeeded', 'the failover import', 30_000);
    const tpl = await a.createTemplate(orgId, { name: `tpl-${++n}`, template_version_id: v.id });
    const ws = await a.createWorkspace(orgId, 'me', { template_id: tpl.id, name: 'failover' });
    // The CLI reaches the replicas through a load balancer that prefers C.
    const lb = await startFailoverProxy([C.port, B.port]);
    try {
      const cli = startCliProc(['logs', 'failover', '-f'], { KILN_URL: lb.url, KILN_SESSION_TOKEN: a.token as string });
      procs.push(cli);
      await waitFor(() => cli.output().includes('step 3 of 16'), 'the CLI to print a few lines', 30_000, 50);
      await C.kill9();
      const build = await waitFor(async () => {
        const w = await b.workspace(ws.id);
        return ['running', 'failed'].includes(w.latest_build.status) ? w.latest_build : undefined;
      }, 'the build to end', 60_000, 200);
      assert.equal(build.status, 'running', build.job.error);
      assert.ok((await cli.exit).code === 0, cli.output());
      const out = cli.output();
      for (const s of steps) assert.equal(out.split(s).length - 1, 1, `"${s}" printed once:\n${out}`);
      const logs = await b.workspaceBuildLogs(build.id);
      for (const s of steps) assert.equal(logs.filter((l) => l.output === s).length, 1, `"${s}" stored once`);
      await waitFor(() => mover.output().includes(`connected to the server`) && new RegExp(`"url":"${B.url}"`).test(mover.output()), 'the daemon to move to B');
      // C no longer heartbeats: the survivors stop listing it (and forget it later).
      await waitFor(async () => {
        const r = await a.replicas();
        return r.length === 2;
      }, 'the dead replica to drop out of GET /replicas', 30_000, 500);
    } finally {
      await lb.close();
    }
  });
});

