import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';

/**
 * GET /workspaces' `count` for a site owner's list and a member's is read from the per-owner counts migration 000096's
 * triggers keep; it must equal what counting the rows says, whoever changed them and however.
 */
describe('the workspace count kept per owner', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  let db: pg.Client;
  let templateId: string;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    member = await srv.createUser(owner.client);
    db = new pg.Client({ connectionString: srv.db.url });
    await db.connect();
    templateId = (await createEchoTemplate(owner.client, owner.organizationId, {}, { name: 'counted' })).template.id;
  });
  after(async () => {
    await db.end();
    await srv.close();
  });

  /** What counting the rows says, next to what each list answers. */
  async function counts() {
    const rows = await db.query<{ all: number; mine: number }>(
      'SELECT count(*)::int AS all, (count(*) FILTER (WHERE owner_id = $1))::int AS mine FROM workspaces WHERE NOT deleted',
      [member.userId],
    );
    const expected = rows.rows[0] as { all: number; mine: number };
    return {
      expected: [expected.all, expected.mine],
      answered: [(await owner.client.workspaces({ limit: 1 })).count, (await member.client.workspaces({ limit: 1 })).count],
    };
  }
  async function agree(what: string) {
    const c = await counts();
    assert.deepEqual(c.answered, c.expected, what);
    return c.expected;
  }

  it("follows kiln's routes: creation, and a delete build's success", async () => {
    const before = await agree('at the start');
    const a = await createWorkspace(member.client, owner.organizationId, templateId, 'counted-a');
    await createWorkspace(owner.client, owner.organizationId, templateId, 'counted-b');
    assert.deepEqual(await agree('after two creations'), [(before[0] ?? 0) + 2, (before[1] ?? 0) + 1]);
    await waitForBuild(member.client, a.latest_build.id);
    const del = await member.client.createWorkspaceBuild(a.id, { transition: 'delete' });
    assert.equal((await waitForBuild(member.client, del.id)).job.status, 'succeeded');
    assert.deepEqual(await agree('after the delete'), [(before[0] ?? 0) + 1, before[1] ?? 0]);
  });

  it("follows an operator's SQL: a bulk insert, an owner change, a restore, a rename, a hard delete, in one transaction and apart", async () => {
    const base = await agree('before');
    const src = (await db.query<{ organization_id: string; template_id: string }>('SELECT organization_id, template_id FROM workspaces LIMIT 1')).rows[0];
    assert.ok(src);
    await db.query(
      `INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name, last_used_at, deleted)
       SELECT gen_random_uuid(), now(), now(), $1, $2, $3, 'bulk-' || n, now(), n % 5 = 0 FROM generate_series(1, 50) n`,
      [owner.userId, src.organization_id, src.template_id],
    );
    assert.deepEqual(await agree('a bulk insert, some rows born deleted'), [(base[0] ?? 0) + 40, base[1]]);
    await db.query(`UPDATE workspaces SET owner_id = $1 WHERE name IN ('bulk-1', 'bulk-2', 'bulk-5')`, [member.userId]);
    assert.deepEqual(await agree('three moved to the member, one of them deleted'), [(base[0] ?? 0) + 40, (base[1] ?? 0) + 2]);
    await db.query(`UPDATE workspaces SET deleted = false WHERE name = 'bulk-5'`);
    await db.query(`UPDATE workspaces SET name = name || '-renamed' WHERE name LIKE 'bulk-%'`);
    assert.deepEqual(await agree('one restored, all renamed'), [(base[0] ?? 0) + 41, (base[1] ?? 0) + 3]);
    await db.query('BEGIN');
    await db.query(`UPDATE workspaces SET deleted = true WHERE name LIKE 'bulk-1%'`);
    await db.query(`DELETE FROM workspaces WHERE name LIKE 'bulk-2%' AND NOT EXISTS (SELECT 1 FROM workspace_builds b WHERE b.workspace_id = workspaces.id)`);
    // Not yet committed: the lists still answer what was there.
    assert.deepEqual((await counts()).answered, [(base[0] ?? 0) + 41, (base[1] ?? 0) + 3]);
    await db.query('COMMIT');
    await agree('deleted by SQL, soft and hard, in one transaction');
    await db.query(`DELETE FROM workspaces WHERE name LIKE 'bulk-%' AND NOT EXISTS (SELECT 1 FROM workspace_builds b WHERE b.workspace_id = workspaces.id)`);
    assert.deepEqual(await agree('the rest hard-deleted'), base);
  });

  it('a name filter counts the rows it matches', async () => {
    await createWorkspace(owner.client, owner.organizationId, templateId, 'needle-one');
    await createWorkspace(owner.client, owner.organizationId, templateId, 'needle-two');
    assert.equal((await owner.client.workspaces({ q: 'name:needle', limit: 1 })).count, 2);
  });
});
