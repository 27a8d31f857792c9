// One developer session, command by command, against a real server; each command's pipe output is pinned by a golden
// file in test/cli/golden (UPDATE_GOLDEN=1 rewrites them).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startTestServer, type TestServer } from '../harness/server.js';

import { runCli } from './cliHarness.js';
import { expectGolden, normalize, transcript } from './golden.js';

describe('kiln CLI output (golden files)', () => {
  let server: TestServer;
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    server = await startTestServer({ provisionerDaemons: 2 });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-golden-'));
    env = { XDG_CONFIG_HOME: path.join(tmp, 'config'), HOME: tmp };
  });
  after(async () => {
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  });

  /** Runs the command in the temp dir and compares its normalised transcript with golden/<name>.txt. */
  async function golden(name: string, argv: string[], expectCode = 0) {
    const r = await runCli(argv, { env, cwd: tmp });
    const text = normalize(transcript(argv, r), [[tmp, '<TMP>'], [server.url, '<URL>']]);
    await expectGolden(name, text);
    assert.equal(r.code, expectCode, `exit code of kiln ${argv.join(' ')}:\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  it('help: the command list and per-command help with examples', async () => {
    await golden('help', ['--help']);
    await golden('help-create', ['create', '--help']);
    await golden('help-templates', ['templates', '--help']);
    await golden('help-state-push', ['state', 'push', '--help']);
  });

  it('login creates the first user from flags (no terminal), then whoami', async () => {
    await golden('login-first-user', ['login', server.url, '--first-user-email', 'admin@example.com', '--first-user-username', 'admin', '--first-user-password', 'a-long-password']);
    await golden('whoami', ['whoami']);
  });

  it('templates init writes the echo example; push creates, then updates the template', async () => {
    await golden('templates-init', ['templates', 'init', 'echo-tpl']);
    await golden('templates-push-create', ['templates', 'push', 'echo', '-d', 'echo-tpl', '--name', 'v1']);
    await golden('templates-push-update', ['templates', 'push', 'echo', '-d', 'echo-tpl', '--name', 'v2']);
    await golden('templates-list', ['templates', 'list']);
    await golden('templates-versions-list', ['templates', 'versions', 'list', 'echo']);
  });

  it('create, list, show: a workspace from the example template', async () => {
    await golden('create', ['create', 'dev', '-t', 'echo']);
    await golden('list', ['list']);
    await golden('show', ['show', 'dev']);
  });

  it('stop, start, restart and the build history', async () => {
    await golden('stop', ['stop', 'dev']);
    await golden('stop-already-stopped', ['stop', 'dev']);
    await golden('start', ['start', 'dev']);
    await golden('restart', ['restart', 'dev']);
    await golden('builds-list', ['builds', 'list', 'dev']);
    await golden('logs-build-2', ['logs', 'dev', '--build', '2']);
  });

  it('state pull and push', async () => {
    await golden('state-pull', ['state', 'pull', 'dev']);
    await writeFile(path.join(tmp, 'state.txt'), 'container=dev volume=home repaired');
    await golden('state-push', ['state', 'push', 'dev', 'state.txt']);
  });

  it('a failing build exits 1 with the error; usage errors exit 2', async () => {
    const dir = path.join(tmp, 'broken');
    await runCli(['templates', 'init', 'broken'], { env, cwd: tmp });
    const echo = JSON.parse(await readFile(path.join(dir, 'echo.json'), 'utf8')) as Record<string, unknown>;
    echo.start = { logs: [{ output: 'Mounting volume home' }, { level: 'error', output: 'no space left on device' }], error: 'apply failed: the disk is full' };
    await writeFile(path.join(dir, 'echo.json'), JSON.stringify(echo));
    await golden('templates-push-broken', ['templates', 'push', 'broken', '-d', 'broken', '--name', 'b1']);
    await golden('create-failed', ['create', 'bad', '-t', 'broken'], 1);
    await golden('cancel-nothing-to-cancel', ['cancel', 'dev'], 1);
    await golden('error-not-found', ['show', 'nope'], 1);
    await golden('error-missing-template-flag', ['create', 'x'], 2);
    await golden('error-unknown-flag', ['list', '--colour'], 2);
    await golden('error-unknown-command', ['frobnicate'], 2);
  });

  it('delete, logout, and what a logged-out user sees', async () => {
    await golden('delete', ['delete', 'dev', '--yes']);
    await golden('list-after-delete', ['list']);
    await golden('logout', ['logout']);
    await golden('whoami-logged-out', ['whoami'], 1);
  });
});
