// A build is something you watch happen: lines arrive while the build runs, in a pipe and on a terminal; failures
// and cancels exit non-zero; Ctrl-C at a terminal asks whether to cancel.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { formatDuration } from '../../src/cli/output.js';
import { createEchoTemplate } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

import { spawnCli, spawnCliInTerminal, startCli, startCliServer, type CliServer } from './cliHarness.js';

const ESC = '\x1b';
const SPIN = '[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]';
const SLOW_LINES = ['fetching base image', 'unpacking layers', 'configuring network', 'starting services', 'ready'];

describe('kiln build streaming', () => {
  let s: CliServer;
  const owner = () => s.server.client.withToken(s.ownerToken);

  before(async () => {
    s = await startCliServer();
    await createEchoTemplate(owner(), s.orgId, { start: { delay_ms: 300, logs: SLOW_LINES.map((output) => ({ output })) } }, { name: 'slow' });
    await createEchoTemplate(owner(), s.orgId, { start: { logs: [{ output: 'mounting volume' }], error: 'volume is read-only' } }, { name: 'broken' });
    await createEchoTemplate(owner(), s.orgId, { start: { logs: [{ output: 'waiting for ever' }], hang: true } }, { name: 'hang' });
  });
  after(() => s.close());

  it('kiln create (a real process, stdout a pipe) prints each line while the build is still starting', async () => {
    const run = spawnCli(['create', 'live', '-t', 'slow'], s.ownerEnv);
    await waitFor(() => run.stdout.text.includes(SLOW_LINES[0] as string), 'the first log line on stdout', 15_000, 5);
    // The line is on screen and the build has four more lines (300 ms apart) to go: it was printed before the build
    // ended (an ordering shown by the build's status, not by comparing clocks).
    const ws = await owner().workspaceByOwnerAndName('me', 'live');
    assert.equal(ws.latest_build.status, 'starting', 'the build is still running when its first line is shown');
    assert.equal(await run.exit, 0, run.stderr.text);
    const text = run.stdout.text;
    for (const line of SLOW_LINES) assert.match(text, new RegExp(`^ {4}${line}$`, 'm'));
    // The stage line carries its duration, the one the build's own log timestamps give: from the stage's first line to
    // the first line of the next stage (a value read back, not a speed asserted).
    const took = /✔ Starting workspace \[([^\]]+)\]/.exec(text);
    assert.ok(took, `the stage line with its duration: ${text}`);
    const logs = await owner().workspaceBuildLogs(ws.latest_build.id);
    const first = logs.findIndex((l) => l.stage === 'Starting workspace');
    const next = logs.findIndex((l, i) => i > first && (l.stage !== 'Starting workspace' || (l.log_source === 'provisioner_daemon' && l.output === '')));
    assert.ok(first >= 0 && next > first, 'the stage and the one after it in the stored log');
    assert.equal(took[1], formatDuration(Date.parse(logs[next]!.created_at) - Date.parse(logs[first]!.created_at)));
    assert.ok(!text.includes(`${ESC}[`), 'no escape codes in a pipe');
  });

  it('a failing build exits 1 and shows the provisioner\'s error', async () => {
    const run = spawnCli(['create', 'bad', '-t', 'broken'], s.ownerEnv);
    assert.equal(await run.exit, 1);
    assert.match(run.stdout.text, /^ {4}mounting volume$/m);
    assert.match(run.stdout.text, /^✘ /m);
    assert.equal(run.stderr.text, 'kiln create: build #1 of "bad" failed.\n  volume is read-only\n');
    // Starting it again fails the same way: start exits 1 too.
    const again = startCli(['start', 'bad'], { env: s.ownerEnv });
    const r = await again.done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /build #2 of "bad" failed\.\n {2}volume is read-only/);
  });

  it('on a terminal: a spinner with the running stage, colours unless NO_COLOR', async () => {
    const colour = spawnCliInTerminal(['create', 'tty1', '-t', 'slow'], s.ownerEnv);
    assert.equal(await colour.exit, 0, colour.output.text);
    const out = colour.output.text;
    assert.match(out, new RegExp(`\r${ESC}\\[2K${SPIN} Starting workspace`), 'the spinner redraws the running stage in place');
    assert.ok(out.includes(`${ESC}[32m✔${ESC}[39m Starting workspace`), 'a green check');
    const plain = spawnCliInTerminal(['create', 'tty2', '-t', 'slow'], { ...s.ownerEnv, NO_COLOR: '1' });
    assert.equal(await plain.exit, 0, plain.output.text);
    assert.match(plain.output.text, new RegExp(`\r${ESC}\\[2K${SPIN} `), 'still a spinner');
    assert.doesNotMatch(plain.output.text, new RegExp(`${ESC}\\[\\d+m`), 'but no colour');
  });

  it('Ctrl-C on a terminal asks whether to cancel; "y" cancels the build and exits 1', async () => {
    const run = spawnCliInTerminal(['create', 'interrupted', '-t', 'hang'], s.ownerEnv);
    await waitFor(() => run.output.text.includes('waiting for ever'), 'the hanging build to log');
    run.child.stdin.write('\x03');
    await waitFor(() => run.output.text.includes('Cancel build #1 of "interrupted"? [y/N]'), 'the cancel question');
    run.child.stdin.write('y\r');
    assert.equal(await run.exit, 1, run.output.text);
    assert.match(run.output.text, /Canceling…/);
    assert.match(run.output.text, /build #1 of "interrupted" was canceled/);
    const ws = await owner().workspaceByOwnerAndName('me', 'interrupted');
    assert.ok(ws.latest_build.job.canceled_at, 'the build was canceled on the server');
  });

  it('Ctrl-C answered "n" keeps watching; a second Ctrl-C at the question detaches and leaves the build running', async () => {
    const run = spawnCliInTerminal(['create', 'kept', '-t', 'hang'], s.ownerEnv);
    await waitFor(() => run.output.text.includes('waiting for ever'), 'the hanging build to log');
    run.child.stdin.write('\x03');
    await waitFor(() => run.output.text.includes('[y/N]'), 'the cancel question');
    run.child.stdin.write('n\r');
    // Watching again: the spinner is back after the question.
    await waitFor(() => new RegExp(`${SPIN} Starting workspace`).test(run.output.text.slice(run.output.text.lastIndexOf('[y/N]'))), 'the spinner to come back');
    run.child.stdin.write('\x03');
    await waitFor(() => (run.output.text.match(/\[y\/N\]/g) ?? []).length === 2, 'the question, again');
    run.child.stdin.write('\x03');
    assert.equal(await run.exit, 130, run.output.text);
    assert.match(run.output.text, /Stopped watching; build #1 of "kept" goes on\. To cancel it: kiln cancel kept/);
    const ws = await owner().workspaceByOwnerAndName('me', 'kept');
    assert.equal(ws.latest_build.status, 'starting', 'the build still runs');
    await owner().cancelWorkspaceBuild(ws.latest_build.id);
  });
});
