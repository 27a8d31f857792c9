// Makes Terraform find kiln's coder/coder provider for one job, with no network: a per-job CLI configuration whose
// filesystem mirror offers registry.terraform.io/coder/coder at every published version (so any `version`
// constraint a template carries resolves offline), and direct installation for every other provider.
//
// Why a mirror and not dev_overrides: `terraform init` still queries the registry for an overridden provider (and
// fails offline), and every command then warns that overrides are in effect. A mirror behaves like a registry: init
// selects a version, records it in the lock file, and prints nothing unusual.
//
// The packaged executable is a fixed shell script that runs `$KILN_TF_PROVIDER_NODE $KILN_TF_PROVIDER_MAIN`; the
// environment returned here sets both. Because the script never changes, its checksum is the same on every machine
// and for every kiln release, so a copy Terraform keeps in a plugin cache stays valid.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every coder/coder release published to the Terraform registry (0.1.0 … 2.17.0). */
export const PUBLISHED_VERSIONS: readonly string[] = [
  '0.1.0', '0.2.0', '0.2.1', '0.3.0', '0.3.1', '0.3.2', '0.3.3', '0.3.4',
  '0.4.0', '0.4.1', '0.4.2', '0.4.3', '0.4.4', '0.4.5', '0.4.6', '0.4.7', '0.4.8', '0.4.9', '0.4.10', '0.4.11',
  '0.4.12', '0.4.13', '0.4.14', '0.4.15', '0.5.0', '0.5.1', '0.5.2', '0.5.3',
  '0.6.0', '0.6.1', '0.6.2', '0.6.3', '0.6.4', '0.6.5', '0.6.6', '0.6.7', '0.6.8', '0.6.9', '0.6.10', '0.6.11',
  '0.6.12', '0.6.13', '0.6.14', '0.6.15', '0.6.16', '0.6.17', '0.6.18', '0.6.19', '0.6.20', '0.6.21', '0.6.22',
  '0.6.23', '0.7.0', '0.8.0', '0.8.1', '0.8.2', '0.8.3', '0.9.0', '0.10.0', '0.11.0', '0.11.1', '0.11.2',
  '0.12.0', '0.12.1', '0.12.2', '0.12.3', '0.12.4', '0.13.0', '0.14.0', '0.14.1', '0.14.2', '0.15.0', '0.16.0',
  '0.17.0', '0.18.0', '0.19.0', '0.20.0', '0.20.1', '0.21.0', '0.22.0', '0.23.0',
  '1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4',
  '2.0.1', '2.0.2', '2.1.0', '2.1.1', '2.1.2', '2.1.3', '2.2.0', '2.3.0', '2.4.0', '2.4.1', '2.4.2', '2.5.0',
  '2.5.1', '2.5.2', '2.5.3', '2.6.0', '2.7.0', '2.8.0', '2.9.0', '2.10.0', '2.10.1', '2.11.0', '2.12.0',
  '2.13.0', '2.13.1', '2.14.0', '2.15.0', '2.16.0', '2.17.0',
];

export const PROVIDER_ADDRESS = 'registry.terraform.io/coder/coder';

/** The directory under the job's work directory that holds the configuration and the mirror. */
export const INSTALL_DIR = '.kiln-coder-provider';

const SHIM = `#!/bin/sh
# kiln's implementation of the coder/coder Terraform provider. The job's environment names the node binary and the
# provider's entry point (see kiln's docs/templates.md).
if [ -z "\${KILN_TF_PROVIDER_MAIN:-}" ]; then
  echo "kiln coder provider: KILN_TF_PROVIDER_MAIN is not set; run Terraform with the environment kiln prepares" >&2
  exit 1
fi
exec "\${KILN_TF_PROVIDER_NODE:-node}" "$KILN_TF_PROVIDER_MAIN" "$@"
`;

export interface PrepareOptions {
  /** The job's directory; the configuration and mirror go into `<workDir>/.kiln-coder-provider/`. */
  workDir: string;
  /** A plugin cache shared between jobs (created if missing). */
  pluginCacheDir?: string;
  /** The node binary that runs the provider (default: this process's). */
  nodePath?: string;
  /** Use the registry's provider instead of kiln's: the configuration then only sets the plugin cache. */
  useRegistry?: boolean;
  /** The directory holding the template's .tf files and lock file (default: workDir). */
  templateDir?: string;
  /** The provider's entry point (default: the compiled main.js next to this module). */
  mainPath?: string;
}

/** Where the compiled entry point is: next to this module, or under dist/ when this module runs from source. */
export function defaultMainPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return path.join(path.dirname(here), 'main.js');
  const root = path.resolve(path.dirname(here), '..', '..', '..', '..');
  return path.join(root, 'dist', 'provisioners', 'terraform', 'provider', 'main.js');
}

/** Terraform's name for this host's platform (e.g. linux_amd64). */
export function terraformPlatform(): string {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  return `${os}_${arch}`;
}

/** An HCL string literal: JSON's escaping, plus `$${` so a path can never interpolate. */
function hclString(s: string): string {
  return JSON.stringify(s).replaceAll('${', '$${').replaceAll('%{', '%%{');
}

export async function prepareCoderProvider(o: PrepareOptions): Promise<{ env: Record<string, string> }> {
  const dir = path.join(path.resolve(o.workDir), INSTALL_DIR);
  await mkdir(dir, { recursive: true });
  const lines: string[] = ['# Terraform CLI configuration written by kiln for one job.'];

  if (o.pluginCacheDir) {
    // A separate cache for each mode: the mirror's package and the registry's share a name and version, and
    // Terraform without a lock file takes whichever the cache holds.
    const cache = o.useRegistry ? path.resolve(o.pluginCacheDir) : path.join(path.resolve(o.pluginCacheDir), 'with-kiln-coder-provider');
    await mkdir(cache, { recursive: true });
    lines.push(`plugin_cache_dir = ${hclString(cache)}`);
  }

  const env: Record<string, string> = {};
  if (!o.useRegistry) {
    const mirror = path.join(dir, 'mirror');
    await writeMirror(mirror);
    await forgetLockedCoderProvider(o.templateDir ?? o.workDir);
    lines.push(
      'provider_installation {',
      '  filesystem_mirror {',
      `    path    = ${hclString(mirror)}`,
      `    include = [${hclString(PROVIDER_ADDRESS)}]`,
      '  }',
      '  direct {',
      `    exclude = [${hclString(PROVIDER_ADDRESS)}]`,
      '  }',
      '}',
    );
    env.KILN_TF_PROVIDER_NODE = o.nodePath ?? process.execPath;
    env.KILN_TF_PROVIDER_MAIN = o.mainPath ?? defaultMainPath();
  }

  const config = path.join(dir, 'terraform.rc');
  await writeFile(config, `${lines.join('\n')}\n`);
  env.TF_CLI_CONFIG_FILE = config;
  return { env };
}

async function writeMirror(mirror: string): Promise<void> {
  const platform = terraformPlatform();
  await Promise.all(
    PUBLISHED_VERSIONS.map(async (v) => {
      const d = path.join(mirror, PROVIDER_ADDRESS, v, platform);
      await mkdir(d, { recursive: true });
      await writeFile(path.join(d, `terraform-provider-coder_v${v}`), SHIM, { mode: 0o755 });
    }),
  );
}

/**
 * A template pushed with a lock file records the registry's checksums for coder/coder, which the mirror's package
 * cannot match; the job's copy of the lock file forgets that one entry (init records the mirror's instead).
 */
async function forgetLockedCoderProvider(templateDir: string): Promise<void> {
  const file = path.join(templateDir, '.terraform.lock.hcl');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  const pattern = /^provider\s+"registry\.terraform\.io\/coder\/coder"\s*\{[\s\S]*?^\}[ \t]*\n?/m;
  if (pattern.test(text)) await writeFile(file, text.replace(pattern, ''));
}
