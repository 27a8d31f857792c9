import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';

/** Coder's terraform provisioner needs 1.3 or later (`-json` plan/apply output, `terraform_data` needs 1.4). */
export const MIN_TERRAFORM_VERSION = '1.3.0';

export type TerraformBinary = { ok: true; path: string; version: string } | { ok: false; reason: string };

export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split(/[.-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

async function onPath(name: string, envPath: string | undefined): Promise<string | undefined> {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  return undefined;
}

/**
 * Finds the terraform binary (`explicit`, else `terraform` on PATH) and checks its version. Never throws: a missing
 * or too old binary is a reason the server prints when it starts with terraform off.
 */
export async function findTerraform(explicit?: string, envPath = process.env.PATH): Promise<TerraformBinary> {
  const bin = explicit ? path.resolve(explicit) : await onPath('terraform', envPath);
  if (!bin) return { ok: false, reason: 'no terraform binary on PATH' };
  const out = await new Promise<string | Error>((resolve) => {
    execFile(bin, ['version', '-json'], { timeout: 30_000, env: { ...process.env, CHECKPOINT_DISABLE: '1' } }, (e, stdout) => resolve(e ?? stdout));
  });
  if (out instanceof Error) return { ok: false, reason: `${bin} version failed: ${out.message.split('\n')[0]}` };
  let version: string | undefined;
  try {
    version = (JSON.parse(out) as { terraform_version?: string }).terraform_version;
  } catch {
    version = /Terraform v(\d+\.\d+\.\d+)/.exec(out)?.[1];
  }
  if (!version) return { ok: false, reason: `${bin} did not report its version` };
  if (compareVersions(version, MIN_TERRAFORM_VERSION) < 0) return { ok: false, reason: `${bin} is terraform ${version}; kiln needs ${MIN_TERRAFORM_VERSION} or later` };
  return { ok: true, path: bin, version };
}
