// Workspace commands end to end: create, list, show, start, stop, restart, delete, cancel, builds list, logs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { WorkspaceBuild } from '../../src/sdk/types/workspaceBuilds.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import type { TestUser } from '../harness/server.js';
import { createEchoTemplate } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

import { runCli, startCli, startCliServer, type CliServer } from './cliHarness.js';

const quick = {
  start: { echo_parameters: true, logs: [{ output: 'up' }], resources: [{ name: 'box', type: 'echo_box', agents: [{ name: 'main', apps: [{ slug: 'web', url: 'http://localhost:3000' }] }] }], state: 'on' },
  stop: { logs: [{ output: 'down' }], state: 'off' },
  delete: { logs: [{ output: 'gone' }] },
};

describe('kiln workspace commands', () => {
  let s: CliServer;
  let member: TestUser;
  let memberEnv: NodeJS.ProcessEnv;
  const kiln = (argv: string[], env?: NodeJS.ProcessEnv) => runCli(argv, { env: env ?? s.ownerEnv });

  before(async () => {
    s = await startCliServer();
    const owner = s.server.client.withToken(s.ownerToken);
    await createEchoTemplate(owner, s.orgId, quick, { name: 'quick' });
    await createEchoTemplate(owner, s.orgId, { start: { logs: [{ output: 'waiting for ever' }], hang: true } }, { name: 'hang', allowUserCancel: true });
    await createEchoTemplate(owner, s.orgId, { start: { delay_ms: 100, logs: [1, 2, 3, 4, 5].map((i) => ({ output: `step ${i}` })) } }, { name: 'slow' });
    member = await s.server.createUser(owner);
    memberEnv = { ...s.ownerEnv, KILN_SESSION_TOKEN: member.client.token };
  });
  after(() => s.close());

  it('create passes --parameter values to the build; -o json lists and shows it', async () => {
    const r = await kiln(['create', 'alpha', '-t', 'quick', '--parameter', 'region=eu-west', '--parameter', 'greeting=a=b']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {4}param region=eu-west$/m);
    assert.match(r.stdout, /^ {4}param greeting=a=b$/m, 'only the first = splits name from value');
    assert.match(r.stdout, /Workspace "alpha" is running \(build #1, template quick\)\.\n$/);
    const list = JSON.parse((await kiln(['list', '-o', 'json'])).stdout) as Workspace[];
    assert.deepEqual(list.map((w) => w.name), ['alpha']);
    const shown = JSON.parse((await kiln(['show', 'alpha', '-o', 'json'])).stdout) as Workspace;
    assert.equal(shown.latest_build.resources[0]?.agents?.[0]?.apps[0]?.slug, 'web');
    const text = (await kiln(['show', 'alpha'])).stdout;
    // Apps are linked by their own origin through kiln, with the URL inside the workspace alongside.
    assert.match(text, /echo_box\.box\n {4}agent main .*\n {6}app web: http:\/\/web--main--alpha--[a-z0-9]+\.apps\.localhost:\d+\/ \(serves http:\/\/localhost:3000\)/);
  });

  it('usage errors exit 2: a bad --parameter, a bad --output, a missing argument', async () => {
    for (const argv of [['create', 'x', '-t', 'quick', '--parameter', 'novalue'], ['list', '-o', 'yaml'], ['show'], ['state', 'pull', 'a', 'b', 'c']]) {
      const r = await kiln(argv);
      assert.equal(r.code, 2, `kiln ${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^kiln [a-z ]+: /);
    }
    const bare = await kiln(['builds']);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^Usage: kiln builds <subcommand>/);
  });

  it('list shows my workspaces; --all and owner/name reach other people\'s', async () => {
    const created = await kiln(['create', `${member.username}/beta`, '-t', 'quick']);
    assert.equal(created.code, 0, created.stderr);
    const mine = await kiln(['list'], memberEnv);
    assert.match(mine.stdout, /^WORKSPACE +TEMPLATE +STATUS +LAST BUILT +OWNER\nbeta +quick +running +\S.* +user/);
    assert.doesNotMatch((await kiln(['list'])).stdout, /beta/);
    assert.match((await kiln(['list', '--all'])).stdout, /beta/);
    assert.match((await kiln(['show', `${member.username}/beta`])).stdout, /^Workspace: +user/);
    const none = await kiln(['list', '--search', 'status:failed']);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /^No workspaces found/);
  });

  it('start and stop build once, and leave a workspace already in that state alone', async () => {
    assert.equal((await kiln(['start', 'alpha'])).stdout, 'Workspace "alpha" is already running.\n');
    const stop = await kiln(['stop', 'alpha']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /✔ Stopping workspace \[.*\]\n✔ Cleaning Up .*\nWorkspace "alpha" is stopped \(build #2\)\.\n$/);
    const start = await kiln(['start', 'alpha']);
    assert.match(start.stdout, /Workspace "alpha" is running \(build #3\)\.\n$/);
  });

  it('restart runs the start only after the stop has finished', async () => {
    const r = await kiln(['restart', 'alpha']);
    assert.equal(r.code, 0, r.stderr);
    const builds = JSON.parse((await kiln(['builds', 'list', 'alpha', '-o', 'json'])).stdout) as WorkspaceBuild[];
    const [start, stop] = builds;
    assert.deepEqual([start?.transition, start?.build_number, stop?.transition, stop?.build_number], ['start', 5, 'stop', 4]);
    assert.ok(Date.parse(stop?.job.completed_at ?? '') <= Date.parse(start?.created_at ?? ''), 'the start was created after the stop completed');
    assert.match((await kiln(['builds', 'list', 'alpha'])).stdout, /^BUILD +TRANSITION +STATUS +INITIATOR +CREATED +DURATION\n#5 +start +running +owner/);
  });

  it('logs shows a past build; logs -f follows a build until it ends', async () => {
    const past = await kiln(['logs', 'alpha', '--build', '2']);
    assert.match(past.stdout, /^ {4}down$/m);
    assert.match(past.stdout, /Build #2 \(stop\) succeeded\.\n$/);
    const missing = await kiln(['logs', 'alpha', '--build', '99']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /has no build #99 \(the latest is #5\)/);

    const create = startCli(['create', 'gamma', '-t', 'slow'], { env: s.ownerEnv });
    // Follow from another "terminal" as soon as the build exists.
    const ws = await waitFor(() => s.server.client.withToken(s.ownerToken).workspaceByOwnerAndName('me', 'gamma'), 'workspace gamma');
    const follow = await kiln(['logs', 'gamma', '-f']);
    assert.equal(follow.code, 0, follow.stderr);
    assert.deepEqual(follow.stdout.match(/step \d/g), ['step 1', 'step 2', 'step 3', 'step 4', 'step 5']);
    assert.match(follow.stdout, /Build #1 \(start\) succeeded\.\n$/);
    assert.equal((await create.done).code, 0);
    assert.equal(ws.name, 'gamma');
  });

  it('cancel stops a build in progress; the command watching it exits 1', async () => {
    const create = startCli(['create', 'stuck', '-t', 'hang'], { env: memberEnv });
    await waitFor(() => create.stdout.text.includes('waiting for ever'), 'the hanging build to log');
    const idle = await kiln(['cancel', 'alpha']);
    assert.equal(idle.code, 1);
    assert.match(idle.stderr, /has no build in progress/);
    const cancel = await kiln(['cancel', 'stuck'], memberEnv);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /^Canceling build #1 of "stuck"…\nBuild #1 of "stuck" canceled\.\n$/);
    const watched = await create.done;
    assert.equal(watched.code, 1);
    assert.match(watched.stdout, /✘ /);
    assert.match(watched.stderr, /^kiln create: build #1 of "stuck" was canceled\.\n/);
  });

  it('delete --orphan leaves the resources alone (owners only); delete removes the workspace', async () => {
    const denied = await kiln(['delete', 'stuck', '--orphan', '-y'], memberEnv);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^kiln delete: Only template managers may provide custom state/);
    const orphan = await kiln(['delete', `${member.username}/stuck`, '--orphan', '--yes']);
    assert.equal(orphan.code, 0, orphan.stderr);
    assert.match(orphan.stdout, /resources were left in place/);
    assert.match(orphan.stdout, /Workspace ".*\/stuck" deleted \(build #2, resources left in place\)\.\n$/);
    const del = await kiln(['rm', 'alpha', '-y']);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /^ {4}gone$/m);
    const gone = await kiln(['show', 'alpha']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /workspace "alpha" not found/);
  });
});
