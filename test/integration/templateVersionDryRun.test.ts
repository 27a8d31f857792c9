import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { KilnClient } from '../../src/sdk/client.js';
import type { ProvisionerJob } from '../../src/sdk/types/provisionerJobs.js';
import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoVersion } from '../harness/templates.js';
import { createTerraformVersion, terraformOrSkip } from '../harness/terraform.js';
import { waitFor } from '../harness/wait.js';

const TF_SKIP = await terraformOrSkip();

const waitDone = (c: KilnClient, versionId: string, jobId: string) =>
  waitFor(async () => {
    const j = await c.templateVersionDryRun(versionId, jobId);
    return ['succeeded', 'failed', 'canceled'].includes(j.status) ? j : undefined;
  }, `dry run ${jobId}`, 120_000, 100);

describe('template version dry runs (POST /templateversions/{id}/dry-run and its job endpoints)', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let admin: TestUser;

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 2 });
    owner = await srv.createFirstUser();
    admin = await srv.createUser(owner.client, ['template-admin']);
  });
  after(async () => srv?.close());

  it('echo: the job plans the start, its logs and resources are readable; only its initiator sees it', async () => {
    const echo = { start: { logs: [{ output: 'planning the start' }], resources: [{ name: 'dev', type: 'echo_container', agents: [{ name: 'main' }] }] } };
    const v = await createEchoVersion(owner.client, owner.organizationId, echo);
    const job: ProvisionerJob = await owner.client.createTemplateVersionDryRun(v.id, { workspace_name: 'would-be' });
    assert.ok(['pending', 'running', 'succeeded'].includes(job.status));
    const done = await waitDone(owner.client, v.id, job.id);
    assert.equal(done.status, 'succeeded', done.error);
    const logs = await owner.client.templateVersionDryRunLogs(v.id, job.id);
    assert.ok(logs.some((l) => l.output === 'planning the start' && l.stage === 'Starting workspace'));
    const res = await owner.client.templateVersionDryRunResources(v.id, job.id);
    assert.deepEqual(res.map((r) => [r.name, r.workspace_transition, r.agents?.map((a) => a.name)]), [['dev', 'start', ['main']]]);
    // Another template manager did not start it: 404, as in Coder.
    await expectApiError(admin.client.templateVersionDryRun(v.id, job.id), 404, 'Provisioner job not found.');
    await expectApiError(owner.client.cancelTemplateVersionDryRun(v.id, job.id), 400, 'Job has already completed!');
  });

  it('a version whose import failed cannot be dry-run; a hanging dry run can be canceled', async () => {
    const failed = await createEchoVersion(owner.client, owner.organizationId, { import: { error: 'broken' } });
    await expectApiError(owner.client.createTemplateVersionDryRun(failed.id, {}), 400);
    const v = await createEchoVersion(owner.client, owner.organizationId, { start: { logs: [{ output: 'waiting' }], hang: true } });
    const job = await owner.client.createTemplateVersionDryRun(v.id, {});
    await waitFor(async () => (await owner.client.templateVersionDryRun(v.id, job.id)).status === 'running', 'the dry run to start');
    const r = await owner.client.cancelTemplateVersionDryRun(v.id, job.id);
    assert.equal(r.message, 'Job has been marked as canceled...');
    const done = await waitDone(owner.client, v.id, job.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.error, 'canceled');
  });

  it('terraform: a real plan with the request\'s parameters; nothing is applied', { skip: TF_SKIP }, async () => {
    const main = `
variable "size" {
  type = string
}
resource "terraform_data" "disk" {
  input = var.size
  provisioner "local-exec" {
    command = "echo applied-should-not-happen"
  }
}
`;
    const v = await createTerraformVersion(owner.client, owner.organizationId, { 'main.tf': main, 'terraform.tfvars': 'size = "1G"\n' });
    assert.equal(v.job.status, 'succeeded', v.job.error);
    const job = await owner.client.createTemplateVersionDryRun(v.id, {
      workspace_name: 'planned',
      parameter_values: [{ name: 'size', source_value: '5G', source_scheme: 'data', destination_scheme: 'provisioner_variable' }],
    });
    const done = await waitDone(owner.client, v.id, job.id);
    assert.equal(done.status, 'succeeded', done.error);
    const logs = (await owner.client.templateVersionDryRunLogs(v.id, job.id)).map((l) => l.output);
    assert.ok(logs.some((o) => o.includes('Plan: 1 to add')), logs.join('\n'));
    assert.ok(!logs.some((o) => o.includes('applied-should-not-happen')), 'the plan was not applied');
    const res = await owner.client.templateVersionDryRunResources(v.id, job.id);
    assert.deepEqual(res.map((r) => `${r.type}.${r.name}`), ['terraform_data.disk']);
  });
});
