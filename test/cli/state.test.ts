// kiln state pull / push: the provisioner state travels byte for byte.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createEchoTemplate } from '../harness/templates.js';

import { runCli, startCliServer, type CliServer } from './cliHarness.js';

/** Newlines, tabs, a NUL, non-ASCII: a state a careless text round trip would damage. */
const STATE = 'resources:\n\tvm "dev" läuft ✓\u0000\r\nend';

describe('kiln state', () => {
  let s: CliServer;
  const kiln = (argv: string[], stdin?: Uint8Array) => runCli(argv, { env: s.ownerEnv, cwd: s.tmp, stdin });

  before(async () => {
    s = await startCliServer();
    const owner = s.server.client.withToken(s.ownerToken);
    await createEchoTemplate(owner, s.orgId, { start: { echo_state: true, state: STATE }, stop: { state: 'stopped' } }, { name: 'stateful' });
    // A stop that fails without reporting a state: its build keeps the state it was created with.
    await createEchoTemplate(owner, s.orgId, { start: { state: 'initial' }, stop: { echo_state: true, error: 'stop refused' } }, { name: 'keeper' });
  });
  after(() => s.close());

  it('state pull then state push round-trips the bytes exactly', async () => {
    assert.equal((await kiln(['create', 'ws', '-t', 'stateful'])).code, 0);
    const pulled = await kiln(['state', 'pull', 'ws', 'state.bin']);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout, '');
    assert.match(pulled.stderr, /^Wrote the state of build #1 \(\d+ B\) to state\.bin\.\n$/);
    const bytes = await readFile(path.join(s.tmp, 'state.bin'));
    assert.deepEqual(bytes, Buffer.from(STATE, 'utf8'));
    // To stdout, the same bytes and nothing else.
    assert.deepEqual((await kiln(['state', 'pull', 'ws'])).stdoutBytes, bytes);

    const pushed = await kiln(['state', 'push', 'ws', 'state.bin']);
    assert.equal(pushed.code, 0, pushed.stderr);
    // The new build (same transition as the latest: start) began from exactly the pushed state.
    // (The log shows it as text, each line indented; the log store drops the NUL and the CR.)
    assert.ok(pushed.stdout.includes('    state: resources:\n    \tvm "dev" läuft ✓'), pushed.stdout);
    assert.match(pushed.stdout, /State pushed \(\d+ B\): build #2 \(start\) of "ws" succeeded\.\n$/);
    assert.deepEqual((await kiln(['state', 'pull', 'ws', '--build', '2'])).stdoutBytes, bytes);
    assert.deepEqual((await kiln(['state', 'pull', 'ws', '-b', '1'])).stdoutBytes, bytes);
  });

  it('state push of arbitrary binary, from a file or stdin, is stored byte for byte', async () => {
    assert.equal((await kiln(['create', 'keep', '-t', 'keeper'])).code, 0);
    const stop = await kiln(['stop', 'keep']);
    assert.equal(stop.code, 1);
    assert.match(stop.stderr, /stop refused/);
    const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
    await writeFile(path.join(s.tmp, 'binary.bin'), binary);
    // The latest build is a (failed) stop, so the push runs a stop; it fails again and keeps the pushed state.
    const fromFile = await kiln(['state', 'push', 'keep', 'binary.bin']);
    assert.equal(fromFile.code, 1);
    assert.match(fromFile.stderr, /build #3 of "keep" failed\.\n {2}stop refused/);
    assert.deepEqual((await kiln(['state', 'pull', 'keep', '--build', '3'])).stdoutBytes, binary);
    const reversed = Buffer.from(binary).reverse();
    const fromStdin = await kiln(['state', 'push', 'keep', '-'], reversed);
    assert.equal(fromStdin.code, 1);
    assert.deepEqual((await kiln(['state', 'pull', 'keep'])).stdoutBytes, reversed);
  });

  it('only template managers may push state; a missing file is a plain error', async () => {
    const member = await s.server.createUser(s.server.client.withToken(s.ownerToken));
    const env = { ...s.ownerEnv, KILN_SESSION_TOKEN: member.client.token };
    assert.equal((await runCli(['create', 'mine', '-t', 'stateful'], { env })).code, 0);
    await writeFile(path.join(s.tmp, 'x.bin'), 'x');
    const denied = await runCli(['state', 'push', 'mine', 'x.bin'], { env, cwd: s.tmp });
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr, 'kiln state push: Only template managers may provide custom state\n');
    const missing = await kiln(['state', 'push', 'ws', 'nope.bin']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^kiln state push: ENOENT: no such file or directory/);
  });
});
