import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { bwrapCommand, findBwrap } from '../../src/provisioners/local/sandbox.js';

/** Runs the command with fd 3 open (bwrap writes its info there), and returns what it printed. */
function run(cmd: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    (child.stdio[3] as NodeJS.ReadableStream).resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The bwrap command line run for real: an install that lives under /tmp (a checkout cloned into /tmp, as CI machines
 * often do) must stay visible inside the sandbox, whose own /tmp is private and empty otherwise.
 */
describe('the sandbox command line', () => {
  let root: string;
  let bwrap: string | undefined;
  before(async () => {
    bwrap = await findBwrap();
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-sbx-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('binds an install under /tmp over the private /tmp, and hides the rest of the host /tmp', async () => {
    assert.ok(bwrap, 'bwrap is installed (CI installs bubblewrap)');
    const install = path.join(root, 'install');
    const home = path.join(root, 'home');
    const agentDir = path.join(root, 'agent');
    for (const d of [install, home, agentDir]) await mkdir(d, { recursive: true });
    await writeFile(path.join(install, 'marker'), 'from the install\n');
    await writeFile(path.join(root, 'secret'), 'host tmp\n');
    const cmd = await bwrapCommand({
      bwrap,
      home,
      needs: [install],
      hide: [],
      agentDir,
      hostname: 'sbx-test',
      command: ['/bin/sh', '-c', `cat ${install}/marker; test -e ${root}/secret && echo leaked || echo hidden; touch /tmp/scratch && echo tmp-writable`],
    });
    const { code, stdout, stderr } = await run(cmd);
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split('\n'), ['from the install', 'hidden', 'tmp-writable']);
  });
});
