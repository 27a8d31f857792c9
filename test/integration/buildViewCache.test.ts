import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { BUILD_VIEWS_CHANNEL, BuildViewCache, DEFAULT_BUILD_VIEW_CACHE_ENTRIES } from '../../src/api/builds/buildViewCache.js';
import { inTx } from '../../src/db/pool.js';
import { MemoryPubsub } from '../../src/db/pubsub.js';
import { touchProvisionerJob } from '../../src/db/queries/provisionerJobs.js';
import type { BuildView } from '../../src/db/queries/views.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { WorkspaceBuild } from '../../src/sdk/types/workspaceBuilds.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

import { request } from './envelope.js';

const ROUTE = '/api/v2/workspacebuilds/:workspacebuild';

/** SQL statements the server counted for GET build so far (kiln_http_request_sql_statements_sum). */
async function statementsSum(srv: TestServer): Promise<number> {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`kiln_http_request_sql_statements_sum{method="GET",route="${ROUTE}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

const AGENT_ECHO = {
  start: {
    logs: [{ output: 'creating a container' }],
    resources: [{ name: 'dev', type: 'echo_container', agents: [{ name: 'main', apps: [{ slug: 'web', url: 'http://127.0.0.1:8080' }] }] }],
  },
};

describe('finished builds served from memory, two replicas on one database', () => {
  let a: TestServer;
  let b: TestServer;
  let owner: TestUser & { organizationId: string };
  let db: pg.Client;
  let templateId: string;

  before(async () => {
    a = await startTestServer({ provisionerDaemons: 1 });
    b = await startTestServer({ provisionerDaemons: 0, database: a.db });
    owner = await a.createFirstUser();
    db = new pg.Client({ connectionString: a.db.url });
    await db.connect();
    templateId = (await createEchoTemplate(owner.client, owner.organizationId, AGENT_ECHO, { name: 'cached' })).template.id;
  });
  after(async () => {
    await db.end();
    await b.close();
    await a.close();
  });

  const get = async (srv: TestServer, id: string) => {
    const res = await request(srv.url, 'GET', `/api/v2/workspacebuilds/${id}`, { token: owner.client.token as string });
    assert.equal(res.status, 200);
    return res.body as WorkspaceBuild;
  };
  const cost = async (srv: TestServer, id: string) => {
    const before = await statementsSum(srv);
    const build = await get(srv, id);
    return { build, statements: (await statementsSum(srv)) - before };
  };
  /**
   * Waits until both replicas have received every notification sent so far: PostgreSQL delivers a listener's
   * notifications in commit order, so once a NOTIFY sent now has arrived, the ones of earlier commits (a build's own
   * completion announces itself) have too. The barrier empties both caches like any other notification.
   */
  const quiet = async () => {
    const arrived = await Promise.all(
      [a, b].map(async (srv) => {
        let resolve!: () => void;
        const got = new Promise<void>((r) => (resolve = r));
        const stop = await srv.server.api.ctx.pubsub.subscribe(BUILD_VIEWS_CHANNEL, { message: (m) => m === 'barrier' && resolve() });
        return { got, stop };
      }),
    );
    await db.query(`NOTIFY ${BUILD_VIEWS_CHANNEL}, 'barrier'`);
    await Promise.all(arrived.map((x) => x.got));
    for (const x of arrived) x.stop();
  };
  /** A finished build, with every notification its build sent already received by both replicas. */
  const finishedBuild = async (name: string) => {
    const w = await createWorkspace(owner.client, owner.organizationId, templateId, name);
    const done = await waitForBuild(owner.client, w.latest_build.id);
    await quiet();
    return done;
  };

  it('reads a finished build once, then serves it with no statement, the same bytes each time', async () => {
    const done = await finishedBuild('steady');
    assert.equal((await request(b.url, 'GET', '/api/v2/users/me', { token: owner.client.token as string })).status, 200); // B knows the key
    const first = await cost(b, done.id);
    assert.equal(first.statements, 1, 'first read on B: the one-statement view');
    assert.equal((await cost(a, done.id)).statements, 1, 'first read on A');
    for (const srv of [b, a]) {
      const again = await cost(srv, done.id);
      assert.equal(again.statements, 0, 'next read: from memory');
      assert.deepEqual(again.build, first.build);
    }
  });

  it('never keeps a build that has not finished: each read of a pending build reads the database', async () => {
    const hanging = await createEchoTemplate(owner.client, owner.organizationId, { start: { logs: [{ output: 'waiting' }], hang: true } }, { name: 'hangs', allowUserCancel: true });
    const w = await createWorkspace(owner.client, owner.organizationId, hanging.template.id, 'unfinished');
    await waitForBuild(owner.client, w.latest_build.id, ['starting']);
    for (let i = 0; i < 2; i++) assert.equal((await cost(a, w.latest_build.id)).statements, 1);
    const canceled = await request(a.url, 'PATCH', `/api/v2/workspacebuilds/${w.latest_build.id}/cancel`, { token: owner.client.token as string });
    assert.equal(canceled.status, 200);
    await waitForBuild(owner.client, w.latest_build.id);
  });

  it("this process's writes empty it only when they may touch what a finished build shows", async () => {
    const done = await finishedBuild('local-writes');
    for (let i = 0; i < 2; i++) await get(a, done.id);
    const pool = a.server.api.ctx.pool;
    // A heartbeat of an unfinished job, and writes to tables no build view embeds, leave it in memory.
    await touchProvisionerJob(pool, randomUUID(), randomUUID(), new Date());
    await pool.query('UPDATE replicas SET updated_at = updated_at WHERE false');
    await inTx(pool, async (tx) => {
      await tx.query('SELECT id FROM provisioner_jobs WHERE id = $1 FOR UPDATE', [done.job.id]);
      await tx.query('DELETE FROM api_keys WHERE false');
    });
    assert.equal((await cost(a, done.id)).statements, 0);
    // Any other write to a table a view embeds empties it at its commit, even one that changed nothing: the next read
    // is a statement. (A trigger's NOTIFY may empty it again when it arrives: waited for.)
    await inTx(pool, async (tx) => tx.query('UPDATE workspaces SET name = name WHERE false'));
    assert.equal((await cost(a, done.id)).statements, 1);
    await quiet();
    await get(a, done.id);
    assert.equal((await cost(a, done.id)).statements, 0);
    await pool.query('UPDATE templates SET name = name WHERE false');
    assert.equal((await cost(a, done.id)).statements, 1);
  });

  it('a rename through kiln shows on the next read of the replica that made it, and on the other once notified', async () => {
    const done = await finishedBuild('before-rename');
    for (const srv of [a, b]) for (let i = 0; i < 2; i++) await get(srv, done.id);
    const renamed = await request(a.url, 'PATCH', `/api/v2/workspaces/${done.workspace_id}`, { token: owner.client.token as string, json: { name: 'after-rename' } });
    assert.equal(renamed.status, 204);
    assert.equal((await get(a, done.id)).workspace_name, 'after-rename', 'no wait: the writer dropped its copy at commit');
    await waitFor(async () => (await get(b, done.id)).workspace_name === 'after-rename', 'replica B notified of the rename');
  });

  it("an operator's SQL change to a user, an agent or a template reaches both replicas once notified", async () => {
    const done = await finishedBuild('by-sql');
    const agentId = done.resources[0]?.agents?.[0]?.id;
    assert.ok(agentId);
    const warm = async () => {
      await quiet();
      for (const srv of [a, b]) for (let i = 0; i < 2; i++) await get(srv, done.id);
      for (const srv of [a, b]) assert.equal((await cost(srv, done.id)).statements, 0, 'held in memory before the change');
    };
    const seenEverywhere = async (what: string, ok: (b: WorkspaceBuild) => boolean) => {
      for (const srv of [a, b]) await waitFor(async () => ok(await get(srv, done.id)), `${what} on ${srv === a ? 'A' : 'B'}`);
    };

    await warm();
    await db.query(`UPDATE users SET username = 'renamed-owner' WHERE id = $1`, [owner.userId]);
    await seenEverywhere('the new username', (x) => x.workspace_owner_name === 'renamed-owner' && x.initiator_name === 'renamed-owner');
    await db.query(`UPDATE users SET username = $2 WHERE id = $1`, [owner.userId, owner.username]);
    await seenEverywhere('the old username', (x) => x.workspace_owner_name === owner.username);

    await warm();
    await db.query(`UPDATE workspace_agents SET lifecycle_state = 'ready', first_connected_at = now(), last_connected_at = now() WHERE id = $1`, [agentId]);
    await seenEverywhere('the connected agent', (x) => x.resources[0]?.agents?.[0]?.status === 'connected' && x.resources[0]?.agents?.[0]?.lifecycle_state === 'ready');

    await warm();
    await db.query(`UPDATE templates SET display_name = 'Shown Elsewhere' WHERE id = $1`, [templateId]);
    await seenEverywhere('the template display name', (x) => x.job.metadata?.template_display_name === 'Shown Elsewhere');
  });

  it("a build's own success empties no replica's cache; a delete's, or anyone's change to a build row, does", async () => {
    const heard: string[] = [];
    const stop = await b.server.api.ctx.pubsub.subscribe(BUILD_VIEWS_CHANNEL, { message: (m) => heard.push(m) });
    try {
      // Creating, running and completing a build (start, then stop) writes only rows of unfinished builds.
      const started = await finishedBuild('quiet-success');
      assert.equal(started.job.status, 'succeeded');
      const stop1 = await owner.client.createWorkspaceBuild(started.workspace_id, { transition: 'stop' });
      assert.equal((await waitForBuild(owner.client, stop1.id)).job.status, 'succeeded');
      await quiet();
      // Every notification of those builds has arrived by now (the barrier came after them): none was an invalidation.
      assert.deepEqual(heard.filter((m) => m !== 'barrier'), [], 'no invalidation for a build finishing');

      // An operator's change to a finished build's row is heard, though no column a view shows changed.
      await db.query('UPDATE workspace_builds SET daily_cost = daily_cost WHERE id = $1', [started.id]);
      await waitFor(() => heard.includes(''), 'the invalidation of a build row changed by SQL');
      heard.length = 0;
      await quiet();

      // A delete build's success marks its workspace deleted, which every finished build of it shows.
      const del = await owner.client.createWorkspaceBuild(started.workspace_id, { transition: 'delete' });
      assert.equal((await waitForBuild(owner.client, del.id)).job.status, 'succeeded');
      await waitFor(() => heard.includes(''), 'the invalidation of the deleted workspace');
    } finally {
      stop();
    }
  });

  it('serves nothing from memory while the listen connection is down', async () => {
    const done = await finishedBuild('unheard');
    for (let i = 0; i < 2; i++) await get(a, done.id);
    assert.equal((await cost(a, done.id)).statements, 0);
    await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kiln-pubsub' AND datname = current_database()`);
    // Until the listen connection is back, a change made by someone else could not be heard of: every read goes to the
    // database, and once listening again the cache starts empty.
    await db.query(`UPDATE workspaces SET name = 'changed-unheard' WHERE id = $1`, [done.workspace_id]);
    await waitFor(async () => (await get(a, done.id)).workspace_name === 'changed-unheard', 'replica A reads the change');
    await waitFor(async () => (await cost(a, done.id)).statements === 0, 'replica A listening and caching again');
    assert.equal((await get(a, done.id)).workspace_name, 'changed-unheard');
  });
});

describe('a body served from memory follows the clock', () => {
  const clock = new ManualClock();
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let db: pg.Client;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1, clock });
    owner = await srv.createFirstUser();
    db = new pg.Client({ connectionString: srv.db.url });
    await db.connect();
  });
  after(async () => {
    await db.end();
    await srv.close();
  });

  it("an agent's status moves on with time (connecting → timeout, connected → disconnected) though nothing was written", async () => {
    const echo = { start: { resources: [{ name: 'dev', type: 'echo_container', agents: [{ name: 'main', connection_timeout_seconds: 120 }] }] } };
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, echo, { name: 'timed' });
    const w = await createWorkspace(owner.client, owner.organizationId, template.id, 'timed');
    const done = await waitForBuild(owner.client, w.latest_build.id);
    const agent = async () => {
      const res = await request(srv.url, 'GET', `/api/v2/workspacebuilds/${done.id}`, { token: owner.client.token as string });
      assert.equal(res.status, 200);
      return (res.body as WorkspaceBuild).resources[0]?.agents?.[0];
    };
    for (let i = 0; i < 3; i++) assert.equal((await agent())?.status, 'connecting');
    assert.equal((await agent())?.connection_timeout_seconds, 120);
    clock.advance(121_000);
    assert.equal((await agent())?.status, 'timeout');

    await db.query('UPDATE workspace_agents SET first_connected_at = $2, last_connected_at = $2 WHERE id = $1', [(await agent())?.id, clock.now()]);
    await waitFor(async () => (await agent())?.status === 'connected', 'the connected agent read');
    for (let i = 0; i < 3; i++) assert.equal((await agent())?.status, 'connected');
    clock.advance(60_000);
    assert.equal((await agent())?.status, 'disconnected');
  });
});

describe('build view cache bounds', () => {
  const view = (id: string) => ({ build: { id }, job: { completed_at: new Date() } }) as unknown as BuildView;

  it(`keeps at most ${DEFAULT_BUILD_VIEW_CACHE_ENTRIES.toLocaleString('en-US')} finished builds by default, the oldest leaving first; entries are frozen`, async () => {
    const cache = new BuildViewCache();
    await cache.start(new MemoryPubsub(), createLogger('silent'));
    try {
      let loads = 0;
      const load = (id: string) => async () => {
        loads++;
        return view(id);
      };
      for (let i = 0; i <= DEFAULT_BUILD_VIEW_CACHE_ENTRIES; i++) await cache.get(`b${i}`, load(`b${i}`));
      assert.equal(cache.size, DEFAULT_BUILD_VIEW_CACHE_ENTRIES);
      loads = 0;
      const newest = await cache.get(`b${DEFAULT_BUILD_VIEW_CACHE_ENTRIES}`, load('newest'));
      assert.equal(loads, 0, 'the newest build is still in memory');
      assert.throws(() => {
        (newest as { build: { id: string } }).build.id = 'changed';
      }, TypeError);
      await cache.get('b0', load('b0'));
      assert.equal(loads, 1, 'the oldest build left and is read again');
    } finally {
      cache.stop();
    }
  });

  it('0 entries turns it off', async () => {
    const cache = new BuildViewCache(0);
    await cache.start(new MemoryPubsub(), createLogger('silent'));
    try {
      let loads = 0;
      for (let i = 0; i < 3; i++) await cache.get('b', async () => (loads++, view('b')));
      assert.equal(loads, 3);
      assert.equal(cache.size, 0);
    } finally {
      cache.stop();
    }
  });
});
