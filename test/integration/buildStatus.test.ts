import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startBuiltinDaemons, type BuiltinDaemons } from '../../src/server/daemons.js';
import { createLogger } from '../../src/lib/logger.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';

// Port of Coder's TestWorkspaceBuildStatus: the daemon is stopped and started around the builds, so each status of
// reference §3.2 is observed on the workspace.
describe('workspace build status through the daemon lifecycle', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let daemons: BuiltinDaemons | undefined;
  const startDaemon = async () => {
    daemons = await startBuiltinDaemons(srv.server.api.ctx, { count: 1, logger: createLogger('silent') });
  };
  const stopDaemon = async () => {
    await daemons?.close();
    daemons = undefined;
  };
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
  });
  after(async () => {
    await stopDaemon();
    await srv.close();
  });

  it('pending → running → stopped → canceled → deleted', async () => {
    const org = owner.organizationId;
    const { template } = await createEchoTemplate(owner.client, org);
    // From here on only daemons this test controls take jobs.
    await srv.server.daemons.close();
    const ws = await createWorkspace(owner.client, org, template.id);
    assert.equal((await owner.client.workspace(ws.id)).latest_build.status, 'pending');

    await startDaemon();
    assert.equal((await waitForBuild(owner.client, ws.latest_build.id)).status, 'running');
    const stop = await owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    assert.equal((await waitForBuild(owner.client, stop.id)).status, 'stopped');

    await stopDaemon();
    const start = await owner.client.createWorkspaceBuild(ws.id, { transition: 'start' });
    assert.equal((await owner.client.workspace(ws.id)).latest_build.status, 'pending');
    await owner.client.cancelWorkspaceBuild(start.id);
    assert.equal((await owner.client.workspace(ws.id)).latest_build.status, 'canceled');

    await startDaemon();
    const del = await owner.client.createWorkspaceBuild(ws.id, { transition: 'delete' });
    await waitForBuild(owner.client, del.id, ['deleted']);
    const gone = await owner.client.workspace(ws.id, { deleted: true });
    assert.equal(gone.latest_build.status, 'deleted');
    assert.equal(gone.latest_build.build_number, 4);
  });
});
