/**
 * TEMPORARY STAND-IN, replaced by kiln's own coder provider (src/provisioners/terraform/provider/): same signature.
 * It only writes a per-job Terraform CLI configuration holding the shared plugin cache, so templates that use
 * Terraform's built-in resources work; `coder/coder` resolves only through the registry until the provider lands.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function prepareCoderProvider(o: { workDir: string; pluginCacheDir?: string; nodePath?: string; useRegistry?: boolean }): Promise<{ env: Record<string, string> }> {
  const file = path.join(o.workDir, '.kiln-terraformrc');
  const lines: string[] = [];
  if (o.pluginCacheDir) {
    await mkdir(o.pluginCacheDir, { recursive: true });
    lines.push(`plugin_cache_dir = ${JSON.stringify(o.pluginCacheDir)}`);
  }
  await writeFile(file, lines.join('\n') + '\n', { mode: 0o600 });
  return { env: { TF_CLI_CONFIG_FILE: file } };
}

/** Marks this stand-in: tests that need kiln's coder provider report themselves skipped while it is in place. */
export const KILN_PROVIDER_STUB = true;
