// kiln templates init / push / list / versions list.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { Template, TemplateVersion } from '../../src/sdk/types/templates.js';

import { runCli, startCliServer, type CliServer } from './cliHarness.js';

describe('kiln templates', () => {
  let s: CliServer;
  const kiln = (argv: string[]) => runCli(argv, { env: s.ownerEnv, cwd: s.tmp });

  before(async () => {
    s = await startCliServer();
  });
  after(() => s.close());

  it('init writes a working echo example, and refuses to overwrite one', async () => {
    const r = await kiln(['templates', 'init', 'starter']);
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(await readFile(path.join(s.tmp, 'starter', 'echo.json'), 'utf8')) as Record<string, { logs?: unknown[] }>;
    for (const phase of ['import', 'start', 'stop', 'delete']) assert.ok(echo[phase]?.logs?.length, `${phase} logs something`);
    assert.match(await readFile(path.join(s.tmp, 'starter', 'README.md'), 'utf8'), /kiln templates push/);
    const again = await kiln(['templates', 'init', 'starter']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /echo\.json exists already/);
  });

  it('init --provisioner local writes examples/local-dev, push picks the local provisioner from kiln.json; unknown provisioners are usage errors', async () => {
    const local = await kiln(['templates', 'init', 'l', '--provisioner', 'local']);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /^Wrote a local template to l: kiln\.json, README\.md\.$/m);
    const example = await readFile(new URL('../../examples/local-dev/kiln.json', import.meta.url), 'utf8');
    assert.equal(await readFile(path.join(s.tmp, 'l', 'kiln.json'), 'utf8'), example);
    const pushed = await kiln(['templates', 'push', 'local-example', '-d', 'l']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /kiln\.json: 1 agent\(s\): main/, 'the local provisioner imported it');
    assert.equal((await kiln(['templates', 'init', 'x', '--provisioner', 'chef'])).code, 2);
  });

  it('init --provisioner terraform writes examples/terraform-local; push picks terraform for *.tf files', async () => {
    const r = await kiln(['templates', 'init', 'tf', '--provisioner', 'terraform']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Wrote a terraform template to tf: main\.tf, README\.md\.$/m);
    const example = await readFile(new URL('../../examples/terraform-local/main.tf', import.meta.url), 'utf8');
    assert.equal(await readFile(path.join(s.tmp, 'tf', 'main.tf'), 'utf8'), example);
    assert.match(await readFile(path.join(s.tmp, 'tf', 'README.md'), 'utf8'), /Terraform runs template code on the daemon's host/);
  });

  it('push names the template after the directory, and the example builds', async () => {
    const r = await kiln(['templates', 'push', '-d', 'starter']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Uploading starter \(\d+\.\d KiB\)\n/);
    assert.match(r.stdout, /^ {4}Reading echo\.json$/m, 'the import log is streamed');
    assert.match(r.stdout, /Template "starter" created with version \w+\.\n$/);
    const created = await kiln(['create', 'try', '-t', 'starter']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Container dev is running/);
  });

  it('push --activate=false uploads a version without promoting it; versions list marks the active one', async () => {
    const before = JSON.parse((await kiln(['templates', 'list', '-o', 'json'])).stdout) as Template[];
    const active = before.find((t) => t.name === 'starter')?.active_version_id;
    const r = await kiln(['templates', 'push', 'starter', '-d', 'starter', '--name', 'candidate', '--activate=false']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Version candidate of template "starter" uploaded; the active version is unchanged\.\n$/);
    const after = JSON.parse((await kiln(['templates', 'list', '-o', 'json'])).stdout) as Template[];
    assert.equal(after.find((t) => t.name === 'starter')?.active_version_id, active);
    const versions = JSON.parse((await kiln(['templates', 'versions', 'list', 'starter', '-o', 'json'])).stdout) as TemplateVersion[];
    assert.deepEqual(versions.map((v) => v.name).slice(0, 1), ['candidate'], 'newest first');
    const table = (await kiln(['templates', 'versions', 'list', 'starter'])).stdout;
    assert.match(table, /^candidate +\S.* +succeeded\n/m);
    assert.match(table, / +succeeded +active\n/);
    const promoted = await kiln(['templates', 'push', 'starter', '-d', 'starter', '--name', 'final']);
    assert.match(promoted.stdout, /Template "starter" updated: version final is now active\./);
    assert.match((await kiln(['templates', 'list'])).stdout, /^starter +echo +final +1 developer +/m);
  });

  it('a failing import exits 1 with its error and creates no template', async () => {
    const dir = path.join(s.tmp, 'bad');
    await mkdir(dir);
    await writeFile(path.join(dir, 'echo.json'), JSON.stringify({ import: { logs: [{ level: 'error', output: 'syntax error on line 3' }], error: 'template is invalid' } }));
    const r = await kiln(['templates', 'push', 'bad', '-d', 'bad']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^✘ Parsing template parameters/m);
    assert.match(r.stderr, /^kiln templates push: the import of version \S+ failed\.\n {2}template is invalid\n$/);
    const missing = await kiln(['templates', 'versions', 'list', 'bad']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'kiln templates versions: template "bad" not found.\n  Run "kiln templates list" to see the templates.\n');
  });

  it('push of a missing directory, and a member without rights, fail with a sentence', async () => {
    const nodir = await kiln(['templates', 'push', 'x', '-d', 'no-such-dir']);
    assert.equal(nodir.code, 1);
    assert.match(nodir.stderr, /no-such-dir is not a directory\./);
    const member = await s.server.createUser(s.server.client.withToken(s.ownerToken));
    const r = await runCli(['templates', 'push', 'mine', '-d', 'starter'], { env: { ...s.ownerEnv, KILN_SESSION_TOKEN: member.client.token }, cwd: s.tmp });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kiln templates push: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

describe('kiln templates push / create: nothing pending in silence', () => {
  let s: CliServer;
  before(async () => {
    // No terraform for the daemons, and pending jobs reaped fast so the push ends.
    s = await startCliServer({ config: { terraformSearchPath: '/nonexistent-kiln-test-path', jobPendingTimeoutMs: 1_000, reaperIntervalMs: 250 } });
  });
  after(() => s.close());

  it('push of a terraform template warns at once that no daemon offers terraform', async () => {
    await mkdir(path.join(s.tmp, 'tf'), { recursive: true });
    await writeFile(path.join(s.tmp, 'tf', 'main.tf'), 'resource "terraform_data" "x" {}\n');
    const r = await runCli(['templates', 'push', 'tf', '-d', 'tf'], { env: s.ownerEnv, cwd: s.tmp });
    assert.match(r.stderr, /^warning: no provisioner daemon can run the import of version \S+: none offers provisioner "terraform"/m);
    assert.equal(r.code, 1, 'the import never ran: the pending timeout failed it');
  });
});
