import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ProvisionerJobLog } from '../../src/sdk/types/provisionerJobs.js';
import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

const LINES = 2000;

async function collect(iter: AsyncIterable<ProvisionerJobLog>): Promise<ProvisionerJobLog[]> {
  const out: ProvisionerJobLog[] = [];
  for await (const l of iter) out.push(l);
  return out;
}

describe('build logs: list and live follow', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
  });
  after(async () => srv.close());

  it('5 followers attached at different moments each get every line exactly once, in id order, then a 1000 close', async () => {
    const logs = Array.from({ length: LINES }, (_, i) => ({ output: `line ${i}` }));
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { logs, delay_ms: 1 } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    const id = ws.latest_build.id;
    const followers: Promise<{ lines: ProvisionerJobLog[]; code: number }>[] = [];
    const attach = () => {
      const f = owner.client.followWorkspaceBuildLogs(id);
      followers.push(collect(f).then(async (lines) => ({ lines, code: (await f.end).code })));
    };
    attach(); // before the build starts
    await waitForBuild(owner.client, id, ['starting']);
    attach();
    for (const threshold of [200, 800, 1500]) {
      await waitFor(async () => (await owner.client.workspaceBuildLogs(id, { after: 0 })).filter((l) => l.log_source === 'provisioner').length >= threshold, `${threshold} lines`, 30_000);
      attach();
    }
    const results = await Promise.all(followers);
    const stored = await owner.client.workspaceBuildLogs(id);
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 1000, `follower ${i} closed normally`);
      const outputs = r.lines.filter((l) => l.log_source === 'provisioner').map((l) => l.output);
      assert.equal(outputs.length, LINES, `follower ${i} got every line`);
      assert.deepEqual(outputs, logs.map((l) => l.output), `follower ${i} in order, no duplicates`);
      const ids = r.lines.map((l) => l.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual(ids, stored.map((l) => l.id), `follower ${i} saw exactly the stored lines`);
    }
  });

  it('follow after completion sends the history and closes; after= resumes from a cursor; before+follow is 400', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { logs: [{ output: 'example' }, { output: 'second', level: 'warn' }] } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const all = await collect(owner.client.followWorkspaceBuildLogs(ws.latest_build.id));
    assert.ok(all.some((l) => l.output === 'example'));
    const stages = [...new Set(all.map((l) => l.stage))];
    assert.deepEqual(stages, ['Setting up', 'Starting workspace', 'Cleaning Up']);
    const example = all.find((l) => l.output === 'example');
    const rest = await collect(owner.client.followWorkspaceBuildLogs(ws.latest_build.id, { after: example?.id }));
    assert.deepEqual(rest.map((l) => l.id), all.filter((l) => l.id > (example?.id ?? 0)).map((l) => l.id));
    await expectApiError(owner.client.http.json('GET', `/api/v2/workspacebuilds/${ws.latest_build.id}/logs`, { query: { follow: 'true', before: 5 } }), 400, 'Query param "before" cannot be used with "follow".');
  });

  it('list: before/after are log ids with AND semantics; bad values are 400; follow=false lists', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { logs: [{ output: 'a' }, { output: 'b' }, { output: 'c' }] } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    const all = await owner.client.workspaceBuildLogs(ws.latest_build.id);
    assert.ok(all.length >= 6);
    const ids = all.map((l) => l.id);
    const mid = await owner.client.workspaceBuildLogs(ws.latest_build.id, { after: ids[1], before: ids[4] });
    assert.deepEqual(mid.map((l) => l.id), [ids[2], ids[3]]);
    const beforeOnly = await owner.client.workspaceBuildLogs(ws.latest_build.id, { before: ids[2] });
    assert.deepEqual(beforeOnly.map((l) => l.id), [ids[0], ids[1]]);
    const e = await expectApiError(owner.client.http.json('GET', `/api/v2/workspacebuilds/${ws.latest_build.id}/logs`, { query: { after: 'x' } }), 400, 'Query param "after" must be an integer.');
    assert.deepEqual(e.response.validations, [{ field: 'after', detail: 'Must be an integer' }]);
    await expectApiError(owner.client.http.json('GET', `/api/v2/workspacebuilds/${ws.latest_build.id}/logs`, { query: { before: '1.5' } }), 400, 'Query param "before" must be an integer.');
    const listed = await owner.client.http.json<ProvisionerJobLog[]>('GET', `/api/v2/workspacebuilds/${ws.latest_build.id}/logs`, { query: { follow: 'false' } });
    assert.equal(listed.length, all.length);
    await expectApiError(owner.client.http.json('GET', `/api/v2/workspacebuilds/${ws.latest_build.id}/logs`, { query: { follow: 'true' } }), 400, 'Failed to accept websocket.');
  });

  it('a failed build: the error is on the job and the stream closes', async () => {
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { logs: [{ output: 'trying' }], error: 'failed!' } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    const f = owner.client.followWorkspaceBuildLogs(ws.latest_build.id);
    const lines = await collect(f);
    assert.equal((await f.end).code, 1000);
    assert.ok(lines.some((l) => l.output === 'trying'));
    const b = await owner.client.workspaceBuild(ws.latest_build.id);
    assert.equal(b.status, 'failed');
    assert.equal(b.job.error, 'failed!');
  });
});
