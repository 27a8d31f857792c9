import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { registerDaemon } from '../../src/api/provisionerdserver/index.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoVersion } from '../harness/templates.js';
import { createTerraformVersion } from '../harness/terraform.js';

describe('matched_provisioners: a job no daemon can run says so at once', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };

  before(async () => {
    // No terraform where the server looks for it: the built-in daemons offer echo and local only.
    srv = await startTestServer({ provisionerDaemons: 2, config: { terraformSearchPath: '/nonexistent-kiln-test-path' } });
    owner = await srv.createFirstUser();
  });
  after(async () => srv?.close());

  it('the server says terraform is off, and why', () => {
    const tf = srv.server.terraform;
    assert.equal(tf.ok, false);
    assert.match(tf.ok ? '' : tf.reason, /no terraform binary on PATH/);
    assert.deepEqual(srv.server.daemons.daemons.length, 2);
  });

  it('a pushed terraform version: count 0 in the create response and while it stays pending', async () => {
    const v = await createTerraformVersion(owner.client, owner.organizationId, { 'main.tf': 'resource "terraform_data" "x" {}\n' }, { wait: false });
    assert.equal(v.job.status, 'pending');
    assert.deepEqual(v.matched_provisioners, { count: 0, available: 0, most_recently_seen: null });
    const again = await owner.client.templateVersion(v.id);
    assert.deepEqual(again.matched_provisioners, { count: 0, available: 0, most_recently_seen: null });
  });

  it('a daemon registered for the provisioner is counted, and available while it is seen', async () => {
    // The built-in daemons leave (and unregister): an echo import now waits, matched by nobody.
    await srv.server.daemons.close();
    const v = await createEchoVersion(owner.client, owner.organizationId, {}, { wait: false });
    assert.deepEqual(v.matched_provisioners, { count: 0, available: 0, most_recently_seen: null });
    // A daemon registers (as an external one would) but does not acquire yet.
    await registerDaemon(srv.server.api.ctx, { name: 'external-1', provisioners: ['echo'] });
    const seen = await owner.client.templateVersion(v.id);
    assert.equal(seen.job.status, 'pending');
    assert.equal(seen.matched_provisioners?.count, 1);
    assert.equal(seen.matched_provisioners?.available, 1);
    assert.ok(seen.matched_provisioners?.most_recently_seen, 'the daemon\'s last heartbeat is given');
  });
});
