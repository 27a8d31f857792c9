import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Pool } from 'pg';

import { mutateTags } from '../../src/jobs/enqueue.js';
import { KilnClient } from '../../src/sdk/client.js';
import type { WorkspaceBuild } from '../../src/sdk/types/workspaceBuilds.js';
import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { routeStatements } from '../harness/statements.js';
import { createEchoTemplate, createEchoVersion, createWorkspace, waitForBuild } from '../harness/templates.js';

/**
 * A plain build (no state given, no orphan, no legacy parameter values, a version without rich parameters) is created
 * by ONE statement that reads what the build is decided from and inserts only when every check passes
 * (createPlainBuild, src/db/queries/buildCreation.ts). What it writes must be what the two-statement path writes, and
 * every refusal must still be the route's answer, with nothing written.
 */
describe('plain build creation in one statement', () => {
  let srv: TestServer;
  let pool: Pool;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  let other: TestUser;
  let templateAdmin: TestUser;
  let org: string;
  /**
   * A second server on the same database, with no daemon, through which the POSTs whose statements are counted go: the
   * count includes the notification statement a request starts, and a batch of another publisher's notifications sent
   * in the same flush would count for the request too. Here the only other publisher, the first server's daemon (it
   * takes the new build's job at once), publishes through its own server.
   */
  let counting: TestServer;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    counting = await startTestServer({ provisionerDaemons: 0, database: srv.db });
    pool = srv.server.api.ctx.pool;
    owner = await srv.createFirstUser();
    org = owner.organizationId;
    member = await srv.createUser(owner.client);
    other = await srv.createUser(owner.client);
    templateAdmin = await srv.createUser(owner.client, ['template-admin']);
  });
  after(async () => {
    await counting.close();
    await srv.close();
  });

  /** A member's workspace of a fresh echo template, its first build finished. */
  async function membersWorkspace() {
    const { template, version } = await createEchoTemplate(owner.client, org);
    const ws = await createWorkspace(member.client, org, template.id);
    await waitForBuild(member.client, ws.latest_build.id);
    return { template, version, ws };
  }

  /** Statements the counting server counted for POST builds so far. */
  const postStatements = () => routeStatements(counting, 'POST', '/api/v2/workspaces/:workspace/builds');
  /** The user's client, on the counting server, its API key already read there (a first request reads it once). */
  const onCounting = async (u: TestUser) => {
    const c = new KilnClient(counting.url, { token: u.client.token });
    await c.me();
    return c;
  };

  const jobOf = async (b: WorkspaceBuild) =>
    (await pool.query('SELECT provisioner, file_id, tags, organization_id, initiator_id, input, type FROM provisioner_jobs WHERE id = $1', [b.job.id])).rows[0];
  const buildCount = async (workspaceId: string) => Number((await pool.query('SELECT count(*) FROM workspace_builds WHERE workspace_id = $1', [workspaceId])).rows[0].count);

  it('writes what the two-statement path writes: the next number, the latest state, the import job\'s provisioner, file and tags as mutateTags makes them', async () => {
    const { version, ws } = await membersWorkspace();
    const importJob = (await pool.query('SELECT id, file_id FROM provisioner_jobs WHERE id = $1', [version.job.id])).rows[0];
    await pool.query("UPDATE workspace_builds SET provisioner_state = 'state of build 1' WHERE id = $1", [ws.latest_build.id]);
    // Tags a template admin's import can carry: a user-scoped one (its owner becomes the workspace's), then an
    // organization-scoped one with a stray owner tag (dropped). No built-in daemon matches the first: it stays queued.
    for (const [n, tags] of [[2, { scope: 'user', owner: templateAdmin.userId, region: 'eu' }], [3, { scope: 'organization', owner: 'x', region: 'eu' }]] as const) {
      await pool.query('UPDATE provisioner_jobs SET tags = $2 WHERE id = $1', [version.job.id, JSON.stringify(tags)]);
      // A site owner builds the member's workspace: the initiator is the owner, the tags follow the workspace's owner.
      const ownerThere = await onCounting(owner);
      const counted = await postStatements();
      const b = await ownerThere.createWorkspaceBuild(ws.id, { transition: 'stop', dry_run: n === 3 });
      // One statement, and the notification statement announcing it: the plain path was taken.
      assert.equal((await postStatements()) - counted, 2);
      assert.equal(b.build_number, n);
      assert.equal(b.template_version_id, version.id);
      assert.equal(b.initiator_id, owner.userId);
      assert.equal(b.workspace_owner_id, member.userId);
      assert.equal(b.job.status, 'pending');
      assert.ok((b.job.queue_position ?? 0) >= 1);
      assert.deepEqual(await jobOf(b), {
        provisioner: 'echo', file_id: importJob.file_id, tags: mutateTags(member.userId, tags), organization_id: org, initiator_id: owner.userId,
        input: { workspace_build_id: b.id, dry_run: n === 3 }, type: 'workspace_build',
      });
      const row = (await pool.query('SELECT provisioner_state, reason FROM workspace_builds WHERE id = $1', [b.id])).rows[0];
      assert.deepEqual([row.provisioner_state?.toString(), row.reason], ['state of build 1', 'initiator']);
      // What the server answered is what a read of the build says.
      assert.deepEqual(b, await owner.client.workspaceBuild(b.id));
      // No built-in daemon has these tags: the build stays queued until canceled.
      await owner.client.cancelWorkspaceBuild(b.id);
      await waitForBuild(owner.client, b.id);
    }
  });

  it('each refusal is the route\'s answer, and nothing is written', async () => {
    const { template, version, ws } = await membersWorkspace();
    const before = await buildCount(ws.id);
    const post = (u: TestUser, body: Parameters<TestUser['client']['createWorkspaceBuild']>[1] = { transition: 'stop' }) => u.client.createWorkspaceBuild(ws.id, body);
    await expectApiError(post(other), 404);
    await expectApiError(post(templateAdmin), 404); // may read it, may not build it
    await expectApiError(post(member, { transition: 'stop', template_version_id: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d' }), 400, 'Template version not found.');
    const elsewhere = await createEchoTemplate(owner.client, org);
    await expectApiError(post(member, { transition: 'stop', template_version_id: elsewhere.version.id }), 400, 'Template version does not belong to the workspace\'s template.');
    // The import as it would be had it failed, been canceled, or not finished; then as it was.
    const job = version.job.id;
    const was = (await pool.query('SELECT started_at, completed_at, canceled_at, error, tags FROM provisioner_jobs WHERE id = $1', [job])).rows[0];
    const at = was.completed_at as Date;
    const importStates: [[Date | null, Date | null, Date | null, string | null], number, RegExp][] = [
      [[at, at, null, 'boom'], 400, /has failed to import: "boom"/],
      [[at, at, at, null], 400, /was canceled during import/],
      [[null, null, null, null], 406, /is pending\. Wait for it to complete importing!/],
      [[at, null, null, null], 406, /is running\. Wait for it to complete importing!/],
    ];
    // Tags no daemon has: the built-in daemon does not take the import again while it looks pending.
    const setImport = (v: unknown[], tags: unknown = { scope: 'organization', held: 'by-this-test' }) =>
      pool.query('UPDATE provisioner_jobs SET started_at = $2, completed_at = $3, canceled_at = $4, error = $5, tags = $6 WHERE id = $1', [job, ...v, JSON.stringify(tags)]);
    for (const [state, status, message] of importStates) {
      await setImport(state);
      await expectApiError(post(member), status, message);
    }
    await setImport([was.started_at, was.completed_at, was.canceled_at, was.error], was.tags);
    // The latest build still active (canceling: no daemon will take it meanwhile).
    const latestJob = ws.latest_build.job.id;
    await pool.query('UPDATE provisioner_jobs SET canceled_at = completed_at, completed_at = NULL WHERE id = $1', [latestJob]);
    await expectApiError(post(member), 409, 'A workspace build is already active.');
    await pool.query('UPDATE provisioner_jobs SET completed_at = canceled_at, canceled_at = NULL WHERE id = $1', [latestJob]);
    await pool.query('UPDATE workspaces SET deleted = true WHERE id = $1', [ws.id]);
    await expectApiError(post(member, { transition: 'start' }), 409, 'Cannot start a deleted workspace!');
    await pool.query('UPDATE workspaces SET deleted = false WHERE id = $1', [ws.id]);
    await expectApiError(owner.client.createWorkspaceBuild('5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', { transition: 'stop' }), 404);
    assert.equal(await buildCount(ws.id), before, 'no build was written');
    // All restored: the same request now builds.
    assert.equal((await post(member)).build_number, before + 1);
    assert.equal(template.active_version_id, version.id);
  });

  it('a version with rich parameters is built by the two-statement path, its values resolved', async () => {
    const { template } = await createEchoTemplate(owner.client, org);
    const v2 = await createEchoVersion(owner.client, org, {}, { templateId: template.id });
    await pool.query(
      "INSERT INTO template_version_parameters (template_version_id, name, type, mutable, default_value, required) VALUES ($1, 'region', 'string', true, 'eu', false)",
      [v2.id],
    );
    const ws = await createWorkspace(member.client, org, template.id);
    await waitForBuild(member.client, ws.latest_build.id);
    const memberThere = await onCounting(member);
    const counted = await postStatements();
    const b = await memberThere.createWorkspaceBuild(ws.id, { transition: 'start', template_version_id: v2.id, rich_parameter_values: [{ name: 'region', value: 'us' }] });
    // The one statement found a declared parameter and inserted nothing; the values' resolution and the insert followed.
    assert.equal((await postStatements()) - counted, 3);
    assert.deepEqual(await member.client.workspaceBuildParameters(b.id), [{ name: 'region', value: 'us' }]);
  });

  it('concurrent plain builds of one workspace: one is created, the others are told one is active', async () => {
    const { version, ws } = await membersWorkspace();
    // Tags no daemon has: the winner stays queued, so no later request may follow it legitimately.
    await pool.query(`UPDATE provisioner_jobs SET tags = '{"scope": "organization", "held": "by-this-test"}' WHERE id = $1`, [version.job.id]);
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => member.client.createWorkspaceBuild(ws.id, { transition: 'stop' })));
    const made = results.filter((r) => r.status === 'fulfilled');
    assert.equal(made.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { status?: number }).status, 409);
    assert.equal(await buildCount(ws.id), 2);
  });
});
