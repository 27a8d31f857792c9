import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createWorkspace, waitForBuild } from '../harness/templates.js';
import { createTerraformVersion, terraformOrSkip } from '../harness/terraform.js';
import { waitFor } from '../harness/wait.js';

// Templates that use only Terraform's built-in resources: these tests need the terraform binary, not the coder provider.
const BASIC = `
variable "greeting" {
  type    = string
  default = "hello"
}
resource "terraform_data" "home" {
  input = "home of \${var.greeting}"
}
resource "terraform_data" "workspace" {
  input = terraform_data.home.output
  provisioner "local-exec" {
    command = "echo \\"building $CODER_WORKSPACE_NAME for $CODER_WORKSPACE_OWNER ($CODER_WORKSPACE_TRANSITION)\\"; printf 'line one\\\\nline two\\\\n'"
  }
}
`;

const SKIP = await terraformOrSkip();

describe('terraform provisioner (real terraform, built-in resources)', { skip: SKIP }, () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let org: string;
  let scratch: string;

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 2, config: { terraformCancelGraceMs: 10_000 } });
    owner = await srv.createFirstUser();
    org = owner.organizationId;
    scratch = await mkdtemp(path.join(os.tmpdir(), 'kiln-tf-test-'));
  });
  after(async () => {
    await srv?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function templateFrom(files: Record<string, string>) {
    const v = await createTerraformVersion(owner.client, org, files);
    assert.equal(v.job.status, 'succeeded', `import failed: ${v.job.error ?? ''}`);
    const t = await owner.client.createTemplate(org, { name: `tf-${Math.random().toString(36).slice(2, 9)}`, template_version_id: v.id });
    return { version: v, template: t };
  }

  const build = async (ws: Workspace, transition: 'start' | 'stop' | 'delete') => {
    const b = await owner.client.createWorkspaceBuild(ws.id, { transition });
    return waitForBuild(owner.client, b.id, undefined, 120_000);
  };
  const stateOf = async (buildId: string) => JSON.parse(new TextDecoder().decode(await owner.client.workspaceBuildState(buildId))) as { serial: number; lineage: string; resources: { type: string; name: string }[] };

  it('import: init, plans of start and stop; the version lists what they create; the logs carry Terraform\'s output', async () => {
    const { version } = await templateFrom({ 'main.tf': BASIC });
    const resources = await owner.client.templateVersionResources(version.id);
    const starts = resources.filter((r) => r.workspace_transition === 'start').map((r) => `${r.type}.${r.name}`).sort();
    const stops = resources.filter((r) => r.workspace_transition === 'stop').map((r) => `${r.type}.${r.name}`).sort();
    assert.deepEqual(starts, ['terraform_data.home', 'terraform_data.workspace']);
    assert.deepEqual(stops, ['terraform_data.home', 'terraform_data.workspace']);
    const logs = await owner.client.templateVersionLogs(version.id);
    assert.ok(logs.some((l) => l.output.includes('Terraform has been successfully initialized')), 'init output is logged');
    assert.ok(logs.some((l) => l.stage === 'Detecting persistent resources' && l.output.includes('Plan: 2 to add')), 'the start plan is logged under Coder\'s stage');
    assert.ok(logs.some((l) => l.stage === 'Detecting ephemeral resources'), 'the stop plan is logged under Coder\'s stage');
  });

  it('builds: start applies with Coder\'s environment, every output line kept; stop reuses the state; delete destroys, then 410', async () => {
    const { template } = await templateFrom({ 'main.tf': BASIC });
    const ws = await createWorkspace(owner.client, org, template.id);
    const first = await waitForBuild(owner.client, ws.latest_build.id, undefined, 120_000);
    assert.equal(first.job.status, 'succeeded', first.job.error);
    const logs = await owner.client.workspaceBuildLogs(first.id);
    const outputs = logs.map((l) => l.output);
    assert.ok(outputs.some((o) => o.includes(`building ${ws.name} for ${owner.username} (start)`)), outputs.join('\n'));
    // Two lines printed by one command stay two log lines, in order.
    const one = outputs.findIndex((o) => o.endsWith('(local-exec): line one'));
    assert.ok(one >= 0 && outputs[one + 1]?.endsWith('(local-exec): line two'), outputs.join('\n'));
    assert.ok(logs.every((l) => l.stage !== ''), 'every line has a stage');

    const s1 = await stateOf(first.id);
    assert.deepEqual(s1.resources.map((r) => `${r.type}.${r.name}`).sort(), ['terraform_data.home', 'terraform_data.workspace']);
    const res = await owner.client.workspaceBuildResources(first.id);
    assert.deepEqual(res.map((r) => r.name).sort(), ['home', 'workspace']);

    const stop = await build(ws, 'stop');
    assert.equal(stop.job.status, 'succeeded', stop.job.error);
    const s2 = await stateOf(stop.id);
    assert.equal(s2.lineage, s1.lineage, 'the stop build used the stored state (same lineage)');
    const stopLogs = (await owner.client.workspaceBuildLogs(stop.id)).map((l) => l.output);
    assert.ok(stopLogs.some((o) => o.includes('Apply complete! Resources: 0 added, 0 changed, 0 destroyed')), 'nothing is recreated: the state was used');

    const del = await build(ws, 'delete');
    assert.equal(del.job.status, 'succeeded', del.job.error);
    assert.ok((await owner.client.workspaceBuildLogs(del.id)).some((l) => l.output.includes('Apply complete! Resources: 0 added, 0 changed, 2 destroyed')), 'the delete destroyed both resources');
    assert.deepEqual((await stateOf(del.id)).resources, []);
    await expectApiError(owner.client.workspace(ws.id), 410);
  });

  it('a failing apply: the job error carries Terraform\'s message; the state keeps what was created', async () => {
    const { template } = await templateFrom({
      'main.tf': `
resource "terraform_data" "ok" {}
resource "terraform_data" "broken" {
  depends_on = [terraform_data.ok]
  provisioner "local-exec" {
    command = "echo about to fail; exit 3"
  }
}
`,
    });
    const ws = await createWorkspace(owner.client, org, template.id);
    const b = await waitForBuild(owner.client, ws.latest_build.id, undefined, 120_000);
    assert.equal(b.job.status, 'failed');
    assert.match(b.job.error ?? '', /local-exec provisioner error/);
    const state = await stateOf(b.id);
    assert.ok(state.resources.some((r) => r.name === 'ok'), 'the resource created before the failure is in the stored state');
  });

  it('a syntax error fails the import with Terraform\'s diagnostic; its detail is in the logs', async () => {
    const v = await createTerraformVersion(owner.client, org, { 'main.tf': 'resource "terraform_data" "x" {\n  input = \n}\n' });
    assert.equal(v.job.status, 'failed');
    assert.match(v.job.error ?? '', /^terraform init: Invalid expression \(main\.tf line 2\): Expected the start of an expression/);
    const logs = await owner.client.templateVersionLogs(v.id);
    assert.ok(logs.some((l) => l.log_level === 'error' && l.output.includes('main.tf line 2')), logs.map((l) => l.output).join('\n'));
  });

  it('a missing provider fails the import with Terraform\'s diagnostic', async () => {
    const v = await createTerraformVersion(owner.client, org, {
      'main.tf': 'terraform {\n  required_providers {\n    nothere = { source = "kiln.invalid/none/nothere" }\n  }\n}\nresource "nothere_thing" "x" {}\n',
    });
    assert.equal(v.job.status, 'failed');
    assert.match(v.job.error ?? '', /terraform init: .*provider/i);
  });

  it('cancel mid-apply: SIGINT, the job ends failed/canceled within the grace period, the partial state is stored, the next build works', async () => {
    const gate = path.join(scratch, 'no-sleep');
    const { template } = await templateFrom({
      'main.tf': `
resource "terraform_data" "first" {}
resource "terraform_data" "slow" {
  depends_on = [terraform_data.first]
  provisioner "local-exec" {
    command = "echo sleeping now; if [ ! -f ${gate} ]; then sleep 300; fi"
  }
}
`,
    });
    const ws = await createWorkspace(owner.client, org, template.id);
    await waitFor(async () => (await owner.client.workspaceBuildLogs(ws.latest_build.id)).some((l) => l.output.includes('(local-exec): sleeping now')), 'the apply to reach the sleep', 120_000);
    await owner.client.cancelWorkspaceBuild(ws.latest_build.id);
    // The grace period is 10 s: terraform is SIGKILLed by then at the latest. A canceled job that reports an error
    // is `failed` (reference §3.1); its error says it was canceled.
    const canceled = await waitForBuild(owner.client, ws.latest_build.id, ['canceled', 'failed'], 20_000);
    assert.equal(canceled.job.status, 'failed');
    assert.equal(canceled.job.error, 'canceled');
    const partial = await stateOf(canceled.id);
    assert.ok(partial.resources.some((r) => r.name === 'first'), 'what was created before the cancel is in the stored state');

    await writeFile(gate, '');
    const next = await build(ws, 'start');
    assert.equal(next.job.status, 'succeeded', next.job.error);
    const after = await stateOf(next.id);
    assert.equal(after.lineage, partial.lineage, 'the next build continued from the partial state');
    assert.deepEqual(after.resources.map((r) => r.name).sort(), ['first', 'slow']);
  });
});

describe('dry-run builds (real terraform)', { skip: SKIP }, () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
  });
  after(async () => srv?.close());

  it('dry_run on a running workspace plans: logs and planned resources, nothing applied, state bytes unchanged', async () => {
    const v = await createTerraformVersion(owner.client, owner.organizationId, { 'main.tf': BASIC });
    assert.equal(v.job.status, 'succeeded', v.job.error);
    const t = await owner.client.createTemplate(owner.organizationId, { name: 'tf-dry', template_version_id: v.id });
    const ws = await createWorkspace(owner.client, owner.organizationId, t.id);
    const first = await waitForBuild(owner.client, ws.latest_build.id, undefined, 120_000);
    assert.equal(first.job.status, 'succeeded', first.job.error);
    const before = await owner.client.workspaceBuildState(first.id);

    const planned = await owner.client.createWorkspaceBuild(ws.id, { transition: 'delete', dry_run: true });
    const done = await waitForBuild(owner.client, planned.id, undefined, 120_000);
    assert.equal(done.job.status, 'succeeded', done.job.error);
    const logs = (await owner.client.workspaceBuildLogs(done.id)).map((l) => l.output);
    assert.ok(logs.some((o) => o.includes('Plan: 0 to add, 0 to change, 2 to destroy')), logs.join('\n'));
    assert.ok(!logs.some((o) => o.includes('Destroying...')), 'nothing was applied');
    assert.deepEqual(await owner.client.workspaceBuildState(done.id), before, 'the dry run kept the state byte for byte');
    // A planned delete deletes nothing: the workspace is still there.
    assert.equal((await owner.client.workspace(ws.id)).id, ws.id);

    const restart = await owner.client.createWorkspaceBuild(ws.id, { transition: 'start', dry_run: true });
    const r = await waitForBuild(owner.client, restart.id, undefined, 120_000);
    assert.equal(r.job.status, 'succeeded', r.job.error);
    assert.deepEqual(r.resources.map((x) => x.name).sort(), ['home', 'workspace'], 'the planned resources are the build\'s');
    assert.deepEqual(await owner.client.workspaceBuildState(r.id), before);
  });
});
