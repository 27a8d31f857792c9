// The per-job installation: what the CLI configuration says, the mirror's layout, the lock file entry it forgets.
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { INSTALL_DIR, prepareCoderProvider, PUBLISHED_VERSIONS, terraformPlatform } from '../../src/provisioners/terraform/provider/install.js';

describe('prepareCoderProvider', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-tfinstall-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('writes a configuration with the mirror for coder/coder and direct installation for the rest', async () => {
    const workDir = path.join(root, 'job1');
    const { env } = await prepareCoderProvider({ workDir, pluginCacheDir: path.join(root, 'cache'), nodePath: '/opt/node/bin/node' });
    assert.equal(env.TF_CLI_CONFIG_FILE, path.join(workDir, INSTALL_DIR, 'terraform.rc'));
    assert.equal(env.KILN_TF_PROVIDER_NODE, '/opt/node/bin/node');
    assert.match(env.KILN_TF_PROVIDER_MAIN!, /dist\/provisioners\/terraform\/provider\/main\.js$/);
    const rc = await readFile(env.TF_CLI_CONFIG_FILE!, 'utf8');
    assert.match(rc, /plugin_cache_dir = ".*\/cache\/with-kiln-coder-provider"/);
    assert.match(rc, /filesystem_mirror \{\n\s+path\s+= ".*\/mirror"\n\s+include = \["registry\.terraform\.io\/coder\/coder"\]/);
    assert.match(rc, /direct \{\n\s+exclude = \["registry\.terraform\.io\/coder\/coder"\]/);
    await access(path.join(root, 'cache', 'with-kiln-coder-provider'));

    // Every published version, each with an executable named as Terraform expects, all byte-identical.
    const exe = (v: string) => path.join(workDir, INSTALL_DIR, 'mirror', 'registry.terraform.io', 'coder', 'coder', v, terraformPlatform(), `terraform-provider-coder_v${v}`);
    assert.ok(PUBLISHED_VERSIONS.includes('0.12.2') && PUBLISHED_VERSIONS.includes('2.17.0'));
    const first = await readFile(exe(PUBLISHED_VERSIONS[0]!), 'utf8');
    for (const v of PUBLISHED_VERSIONS) {
      assert.equal(await readFile(exe(v), 'utf8'), first);
      assert.ok(((await stat(exe(v))).mode & 0o111) !== 0, `${v} is executable`);
    }
    assert.match(first, /exec "\$\{KILN_TF_PROVIDER_NODE:-node\}" "\$KILN_TF_PROVIDER_MAIN"/);
  });

  it("forgets the lock file's coder/coder entry and keeps the others", async () => {
    const workDir = path.join(root, 'job2');
    const lock = [
      '# This file is maintained automatically by "terraform init".',
      '',
      'provider "registry.terraform.io/coder/coder" {',
      '  version     = "0.12.2"',
      '  constraints = "~> 0.12"',
      '  hashes = [',
      '    "h1:abc=",',
      '  ]',
      '}',
      '',
      'provider "registry.terraform.io/kreuzwerker/docker" {',
      '  version = "3.0.2"',
      '}',
      '',
    ].join('\n');
    await mkdir(workDir, { recursive: true });
    await writeFile(path.join(workDir, '.terraform.lock.hcl'), lock);
    await prepareCoderProvider({ workDir });
    const left = await readFile(path.join(workDir, '.terraform.lock.hcl'), 'utf8');
    assert.doesNotMatch(left, /coder\/coder/);
    assert.match(left, /kreuzwerker\/docker/);
  });

  it('with the registry, installs nothing of its own and caches apart', async () => {
    const workDir = path.join(root, 'job3');
    const { env } = await prepareCoderProvider({ workDir, pluginCacheDir: path.join(root, 'cache'), useRegistry: true });
    assert.deepEqual(Object.keys(env), ['TF_CLI_CONFIG_FILE']);
    const rc = await readFile(env.TF_CLI_CONFIG_FILE!, 'utf8');
    assert.doesNotMatch(rc, /provider_installation/);
    assert.match(rc, new RegExp(`plugin_cache_dir = "${path.join(root, 'cache').replaceAll('/', '\\/')}"`));
    await assert.rejects(access(path.join(workDir, INSTALL_DIR, 'mirror')));
  });
});
