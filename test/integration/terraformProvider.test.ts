// kiln's coder/coder provider driven by the real `terraform` binary: offline init through the per-job mirror,
// validate, plan, apply, a second plan with no changes, stop/start transitions, destroy. Any attempt to reach a
// registry fails (the proxy variables point at a closed port), so a passing run proves the provider needs no network.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { hostPlatform } from '../../src/provisioners/terraform/provider/datasources/workspace.js';
import { defaultMainPath, prepareCoderProvider } from '../../src/provisioners/terraform/provider/install.js';
import { waitFor } from '../harness/wait.js';

const fixtures = path.resolve(import.meta.dirname, '..', 'terraform', 'fixtures');

function findTerraform(): { path?: string; reason?: string } {
  const candidate = process.env.KILN_TERRAFORM_PATH || 'terraform';
  const r = spawnSync(candidate, ['version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { reason: `no usable terraform binary (${candidate}): ${r.error?.message ?? r.stderr}` };
  return { path: candidate };
}

const terraform = findTerraform();
if (terraform.reason) console.warn(`\n*** SKIPPING the Terraform provider tests: ${terraform.reason} ***\n`);
/** Each test is skipped on its own, with the reason, so the runner's summary counts them as skipped. */
const skip = terraform.reason ? `terraform missing: ${terraform.reason}` : false;

interface Run {
  code: number;
  out: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const paramEnv = (name: string) => `CODER_PARAMETER_${createHash('sha256').update(name).digest('hex')}`;

/** Processes whose environment carries this run's marker: providers Terraform left behind. */
async function processesWithMarker(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if ((await readFile(`/proc/${pid}/environ`, 'latin1')).includes(marker)) pids.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

describe('kiln coder provider through terraform', () => {
  let root: string;
  const marker = `KILN_TF_TEST_MARKER=${randomUUID()}`;
  const platform = hostPlatform();

  before(async () => {
    if (skip) return;
    const main = defaultMainPath();
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` before the Terraform tests`);
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-tfprovider-'));
  });
  after(async () => root && rm(root, { recursive: true, force: true }));

  async function workspaceDir(fixture: string, lockFile?: string): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
    const dir = path.join(root, `${fixture}-${randomUUID().slice(0, 8)}`);
    await cp(path.join(fixtures, fixture), dir, { recursive: true });
    if (lockFile) await writeFile(path.join(dir, '.terraform.lock.hcl'), lockFile);
    const prepared = await prepareCoderProvider({ workDir: dir, pluginCacheDir: path.join(root, 'plugin-cache') });
    const [mk, mv] = marker.split('=') as [string, string];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...prepared.env,
      [mk]: mv,
      // Any registry request fails: nothing may be downloaded.
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '',
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      CODER_AGENT_URL: 'http://127.0.0.1:3999',
      CODER_WORKSPACE_NAME: 'dev',
      CODER_WORKSPACE_ID: randomUUID(),
      CODER_WORKSPACE_OWNER: 'alice',
      CODER_WORKSPACE_OWNER_ID: randomUUID(),
      CODER_WORKSPACE_OWNER_EMAIL: 'alice@example.com',
      CODER_WORKSPACE_TEMPLATE_NAME: 'tpl',
      CODER_WORKSPACE_TEMPLATE_VERSION: 'v1',
      CODER_WORKSPACE_TRANSITION: 'start',
      [`CODER_AGENT_SCRIPT_${platform.os}_${platform.arch}`]: 'agent-from ${ACCESS_URL}bin/agent auth=${AUTH_TYPE}',
    };
    return { dir, env };
  }

  async function tf(dir: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
    const child = spawn(terraform.path!, [...args, '-no-color'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    // Terraform ends every provider it started before it exits; none may linger.
    await waitFor(async () => (await processesWithMarker(marker)).length === 0, 'provider processes to exit', 10_000, 100);
    return { code, out };
  }

  async function ok(dir: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
    const r = await tf(dir, env, ...args);
    assert.equal(r.code, 0, `terraform ${args.join(' ')} failed:\n${r.out}`);
    return r.out;
  }

  type Instance = { index_key?: number; attributes: Record<string, unknown>; sensitive_attributes?: unknown[] };
  type StateResource = { mode: string; type: string; name: string; instances: Instance[] };
  async function state(dir: string): Promise<StateResource[]> {
    return (JSON.parse(await readFile(path.join(dir, 'terraform.tfstate'), 'utf8')) as { resources: StateResource[] }).resources;
  }
  const find = (resources: StateResource[], mode: string, type: string) => resources.filter((r) => r.mode === mode && r.type === type);

  it('inits offline, applies, plans no change, follows stop and start, and destroys', { timeout: 600_000, skip }, async () => {
    // A lock file as pushed from a machine that used the registry: its checksums cannot match kiln's package.
    const { dir, env } = await workspaceDir(
      'workspace',
      'provider "registry.terraform.io/coder/coder" {\n  version     = "2.17.0"\n  constraints = "~> 2.0"\n  hashes = [\n    "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",\n  ]\n}\n',
    );
    const init = await ok(dir, env, 'init', '-input=false');
    assert.match(init, /Installed coder\/coder v2\.17\.0/);
    assert.match(await ok(dir, env, 'validate'), /The configuration is valid/);

    const firstPlan = await tf(dir, { ...env, [paramEnv('size')]: '7' }, 'plan', '-input=false', '-detailed-exitcode');
    assert.equal(firstPlan.code, 2, firstPlan.out);
    assert.match(firstPlan.out, /id\s+= \(known after apply\)/);
    assert.match(firstPlan.out, /init_script\s+= \(known after apply\)/);

    await ok(dir, { ...env, [paramEnv('size')]: '7' }, 'apply', '-input=false', '-auto-approve');
    const started = await state(dir);
    const agent = find(started, 'managed', 'coder_agent')[0]!.instances[0]!.attributes;
    assert.match(String(agent.id), UUID);
    assert.match(String(agent.token), UUID);
    assert.equal(agent.init_script, 'agent-from http://127.0.0.1:3999/bin/agent auth=token');
    assert.deepEqual(agent.display_apps, []);
    assert.equal((agent.metadata as { key: string }[])[0]!.key, 'disk');
    assert.equal(await readFile(path.join(dir, 'init_script.out'), 'utf8'), agent.init_script);
    const app = find(started, 'managed', 'coder_app')[0]!.instances[0]!.attributes;
    assert.equal(app.agent_id, agent.id);
    assert.deepEqual(app.healthcheck, [{ url: 'http://localhost:8080/healthz', interval: 5, threshold: 6 }]);
    const meta = find(started, 'managed', 'coder_metadata')[0]!.instances[0]!.attributes;
    assert.equal(meta.resource_id, find(started, 'managed', 'terraform_data')[0]!.instances[0]!.attributes.id);
    assert.deepEqual(meta.item, [
      { key: 'size', value: '7', sensitive: null, is_null: false },
      { key: 'password', value: 'hunter2', sensitive: true, is_null: false },
      { key: 'empty', value: null, sensitive: null, is_null: true },
    ]);
    const ws = find(started, 'data', 'coder_workspace')[0]!.instances[0]!.attributes;
    assert.equal(ws.name, 'dev');
    assert.equal(ws.owner, 'alice');
    assert.equal(ws.start_count, 1);
    assert.equal(ws.access_port, 3999);
    assert.deepEqual(find(started, 'data', 'coder_provisioner')[0]!.instances[0]!.attributes.os, platform.os);
    assert.equal(find(started, 'data', 'coder_parameter')[0]!.instances[0]!.attributes.value, '7');

    // The same inputs again: nothing to do, and the agent keeps its token.
    const again = await tf(dir, { ...env, [paramEnv('size')]: '7' }, 'plan', '-input=false', '-detailed-exitcode');
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /No changes/);

    // Stop: the transition's count drops the box and its metadata; the agent stays as it was.
    await ok(dir, { ...env, CODER_WORKSPACE_TRANSITION: 'stop' }, 'apply', '-input=false', '-auto-approve');
    const stopped = await state(dir);
    assert.equal(find(stopped, 'managed', 'terraform_data').length, 0);
    assert.equal(find(stopped, 'managed', 'coder_metadata').length, 0);
    assert.equal(find(stopped, 'managed', 'coder_agent')[0]!.instances[0]!.attributes.token, agent.token);
    const stoppedAgain = await tf(dir, { ...env, CODER_WORKSPACE_TRANSITION: 'stop' }, 'plan', '-input=false', '-detailed-exitcode');
    assert.equal(stoppedAgain.code, 0, stoppedAgain.out);

    await ok(dir, env, 'apply', '-input=false', '-auto-approve');
    assert.equal(find(await state(dir), 'managed', 'coder_metadata').length, 1);

    await ok(dir, env, 'destroy', '-input=false', '-auto-approve');
    assert.deepEqual(await state(dir), []);
  });

  it('builds a template written the way Coder documents templates, pinned to an older release', { timeout: 600_000, skip }, async () => {
    const { dir, env } = await workspaceDir('coder-style');
    assert.match(await ok(dir, env, 'init', '-input=false'), /Installed coder\/coder v2\.4\.1/);
    await ok(dir, env, 'validate');
    await ok(dir, { ...env, [paramEnv('cpus')]: '4' }, 'apply', '-input=false', '-auto-approve');
    const resources = await state(dir);
    const params = Object.fromEntries(
      find(resources, 'data', 'coder_parameter').map((r) => [r.name, r.instances[0]!.attributes as Record<string, unknown>]),
    );
    assert.equal(params.region!.value, 'eu');
    assert.equal(params.region!.form_type, 'radio');
    assert.equal(params.cpus!.value, '4');
    assert.equal(params.dotfiles!.value, 'false');
    assert.equal(params.tools!.value, '["git","make"]');
    const agent = find(resources, 'managed', 'coder_agent')[0]!.instances[0]!.attributes;
    assert.deepEqual(agent.display_apps, [{ vscode: false, vscode_insiders: false, web_terminal: true, port_forwarding_helper: true, ssh_helper: true }]);
    assert.equal(find(resources, 'managed', 'coder_app').length, 2);
    const preset = find(resources, 'data', 'coder_workspace_preset')[0]!.instances[0]!.attributes;
    assert.equal(preset.id, 'Small');
    assert.deepEqual(preset.parameters, { region: 'eu', cpus: '2' });
    const box = find(resources, 'managed', 'terraform_data')[0]!.instances[0]!.attributes as { output: { value: Record<string, unknown> } };
    assert.deepEqual(box.output.value, { owner: 'alice', region: 'eu', cpus: '4', tools: ['git', 'make'] });

    const again = await tf(dir, { ...env, [paramEnv('cpus')]: '4' }, 'plan', '-input=false', '-detailed-exitcode');
    assert.equal(again.code, 0, again.out);
    // A smaller value than the previous build's breaks the monotonic rule.
    const shrink = await tf(
      dir,
      { ...env, [paramEnv('cpus')]: '3', [`CODER_PARAMETER_PREVIOUS_${createHash('sha256').update('cpus').digest('hex')}`]: '4' },
      'plan',
      '-input=false',
    );
    assert.notEqual(shrink.code, 0);
    assert.match(shrink.out, /must be equal or greater than previous value: 4/);
    await ok(dir, env, 'destroy', '-input=false', '-auto-approve');
  });

  it('refuses to run outside Terraform', async () => {
    assert.ok(existsSync(defaultMainPath()), 'run `npm run build` before the Terraform tests');
    const r = spawnSync(process.execPath, [defaultMainPath()], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /This binary is a plugin/);
  });
});
