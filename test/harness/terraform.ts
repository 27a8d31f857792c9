import assert from 'node:assert/strict';

import { findTerraform } from '../../src/provisioners/terraform/binary.js';
import type { KilnClient } from '../../src/sdk/client.js';
import { createTar } from '../../src/sdk/tar.js';
import type { TemplateVersion } from '../../src/sdk/types/templates.js';

import { waitFor } from './wait.js';

/**
 * Terraform tests need the real binary. Where it is missing they are skipped with the reason printed (loudly, on
 * stderr); under CI (.ci/run sets KILN_REQUIRE_TERRAFORM) a missing binary fails instead, so they never silently skip.
 */
export async function terraformOrSkip(): Promise<string | undefined> {
  const tf = await findTerraform();
  if (tf.ok) return undefined;
  if (process.env.KILN_REQUIRE_TERRAFORM || process.env.CI) assert.fail(`terraform is required here (KILN_REQUIRE_TERRAFORM/CI): ${tf.reason}`);
  const reason = `skipped: terraform not found (${tf.reason})`;
  process.stderr.write(`\n*** ${reason} ***\n\n`);
  return reason;
}

/** Uploads Terraform files as a template version for the `terraform` provisioner; waits for its import by default. */
export async function createTerraformVersion(client: KilnClient, orgId: string, files: Record<string, string>, opts: { templateId?: string; wait?: boolean; variables?: { name: string; value: string }[] } = {}): Promise<TemplateVersion> {
  const { hash } = await client.upload(createTar(files));
  const v = await client.createTemplateVersion(orgId, { storage_method: 'file', file_id: hash, provisioner: 'terraform', template_id: opts.templateId, user_variable_values: opts.variables });
  if (opts.wait === false) return v;
  return waitFor(async () => {
    const cur = await client.templateVersion(v.id);
    return ['succeeded', 'failed', 'canceled'].includes(cur.job.status) ? cur : undefined;
  }, `import of terraform version ${v.id}`, 120_000, 100);
}

/**
 * Tests of Coder templates need kiln's coder provider (src/provisioners/terraform/provider/). While the tree holds the
 * stand-in install.ts they are skipped, saying so; once the provider is in, they run.
 */
export async function coderProviderOrSkip(): Promise<string | undefined> {
  const tf = await terraformOrSkip();
  if (tf) return tf;
  const mod = (await import('../../src/provisioners/terraform/provider/install.js')) as Record<string, unknown>;
  if (mod.KILN_PROVIDER_STUB !== true) return undefined;
  const reason = 'skipped: kiln\'s coder provider is not in this tree (provider/install.ts is the stand-in)';
  process.stderr.write(`\n*** ${reason} ***\n\n`);
  return reason;
}
