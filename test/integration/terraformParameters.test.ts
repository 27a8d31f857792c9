import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { WorkspaceBuild } from '../../src/sdk/types/workspaceBuilds.js';
import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
import { coderProviderOrSkip, createTerraformVersion } from '../harness/terraform.js';

/**
 * Rich parameters and template variables through real Terraform and kiln's coder provider: the import reads the
 * `coder_parameter` data sources and `variable` blocks from the plan; builds pass the values the way Coder's
 * provisioner does (CODER_PARAMETER_<sha256(name)>, TF_VAR_<name>), and what the template makes of them shows up in the
 * build's resources.
 */
const TEMPLATE = `
terraform {
  required_providers {
    coder = { source = "coder/coder" }
  }
}
variable "region" {
  type        = string
  description = "Where the disks live"
}
data "coder_parameter" "size" {
  name         = "size"
  display_name = "Disk size"
  description  = "How big the disk is"
  type         = "string"
  default      = "small"
  mutable      = true
  option {
    name  = "Small"
    value = "small"
  }
  option {
    name  = "Large"
    value = "large"
  }
}
data "coder_parameter" "cpus" {
  name    = "cpus"
  type    = "number"
  default = 2
  mutable = true
  validation {
    min = 1
    max = 8
  }
}
resource "terraform_data" "disk" {
  input = "\${data.coder_parameter.size.value}-\${data.coder_parameter.cpus.value}"
}
resource "coder_metadata" "disk" {
  resource_id = terraform_data.disk.id
  item {
    key   = "size"
    value = data.coder_parameter.size.value
  }
  item {
    key   = "cpus"
    value = data.coder_parameter.cpus.value
  }
  item {
    key   = "region"
    value = var.region
  }
}
`;

const SKIP = await coderProviderOrSkip();

describe('rich parameters and variables through the terraform provisioner', { skip: SKIP }, () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
  });
  after(async () => srv?.close());

  const metadataOf = (b: WorkspaceBuild) => {
    const disk = b.resources.find((r) => r.type === 'terraform_data' && r.name === 'disk');
    assert.ok(disk, `the disk resource is listed: ${JSON.stringify(b.resources.map((r) => `${r.type}.${r.name}`))}`);
    return Object.fromEntries((disk.metadata ?? []).map((m) => [m.key, m.value]));
  };

  it('the import declares coder_parameter and variable blocks; builds with two values show both in coder_metadata', { timeout: 600_000 }, async () => {
    const org = owner.organizationId;
    const missing = await createTerraformVersion(owner.client, org, { 'main.tf': TEMPLATE });
    assert.equal(missing.job.status, 'failed', 'a required variable without a value fails the import');
    assert.match(missing.job.error ?? '', /region/);

    const v = await createTerraformVersion(owner.client, org, { 'main.tf': TEMPLATE }, { variables: [{ name: 'region', value: 'eu-west' }] });
    assert.equal(v.job.status, 'succeeded', v.job.error);
    const declared = await owner.client.templateVersionRichParameters(v.id);
    assert.deepEqual(declared.map((p) => p.name).sort(), ['cpus', 'size']);
    const size = declared.find((p) => p.name === 'size');
    assert.equal(size?.display_name, 'Disk size');
    assert.equal(size?.default_value, 'small');
    assert.equal(size?.mutable, true);
    assert.deepEqual(size?.options.map((o) => o.value), ['small', 'large']);
    const cpus = declared.find((p) => p.name === 'cpus');
    assert.equal(cpus?.type, 'number');
    assert.equal(cpus?.validation_min, 1);
    assert.equal(cpus?.validation_max, 8);
    const vars = await owner.client.templateVersionVariables(v.id);
    assert.deepEqual(vars.map((x) => [x.name, x.value, x.required]), [['region', 'eu-west', true]]);

    const t = await owner.client.createTemplate(org, { name: 'tf-params', template_version_id: v.id });
    // The server checks values against the declarations before Terraform runs.
    await expectApiError(
      owner.client.createWorkspace(org, 'me', { template_id: t.id, name: 'too-many', rich_parameter_values: [{ name: 'cpus', value: '9' }] }),
      400,
    );
    const ws = await owner.client.createWorkspace(org, 'me', { template_id: t.id, name: 'tf-disk', rich_parameter_values: [{ name: 'size', value: 'large' }, { name: 'cpus', value: '4' }] });
    const b1 = await waitForBuild(owner.client, ws.latest_build.id, undefined, 300_000);
    assert.equal(b1.job.status, 'succeeded', b1.job.error);
    assert.deepEqual(metadataOf(b1), { size: 'large', cpus: '4', region: 'eu-west' });

    const next = await owner.client.createWorkspaceBuild(ws.id, { transition: 'start', rich_parameter_values: [{ name: 'size', value: 'small' }] });
    const b2 = await waitForBuild(owner.client, next.id, undefined, 300_000);
    assert.equal(b2.job.status, 'succeeded', b2.job.error);
    assert.deepEqual(metadataOf(b2), { size: 'small', cpus: '4', region: 'eu-west' }, 'cpus carried over from the first build');
  });
});
