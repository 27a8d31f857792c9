import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { findBwrap } from '../../src/provisioners/local/sandbox.js';
import { dialAgentStream } from '../../src/sdk/agentStreams.js';
import { isSdkError } from '../../src/sdk/errors.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { BIN, runCli, spawnCli, startCliServer, type CliServer } from '../cli/cliHarness.js';
import { createLocalTemplate, exampleKilnJson, killAll, latestAgent } from '../harness/local.js';
import type { TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';
import { freePort } from '../harness/local.js';
import { KilnClient } from '../../src/sdk/client.js';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('kiln ssh, config-ssh and port-forward into a sandboxed workspace', () => {
  let cli: CliServer;
  let env: NodeJS.ProcessEnv;
  let ws: Workspace;
  let owner: KilnClient;
  let other: TestUser;

  before(async () => {
    assert.ok(await findBwrap(), 'bwrap is required for these tests: apt-get install -y bubblewrap');
    cli = await startCliServer({ provisionerDaemons: 1 });
    env = { ...cli.ownerEnv, PATH: process.env.PATH };
    owner = new KilnClient(cli.server.url, { token: cli.ownerToken });
    other = await cli.server.createUser(owner);
    const { template } = await createLocalTemplate(owner, cli.orgId, await exampleKilnJson());
    ws = await owner.createWorkspace(cli.orgId, 'me', {
      template_id: template.id,
      name: `ssh-${randomUUID().slice(0, 8)}`,
      parameter_values: [{ name: 'port', source_value: '8000', source_scheme: 'data', destination_scheme: 'provisioner_variable' }],
    });
    const b = await waitForBuild(owner, ws.latest_build.id, undefined, 30_000);
    assert.equal(b.job.status, 'succeeded', b.job.error);
    await waitFor(async () => (await latestAgent(owner, ws.id)).apps[0]?.health === 'healthy', 'app healthy', 20_000);
  });
  after(async () => {
    if (cli) await killAll(`KILN_AGENT_URL=${cli.server.url}`);
    await cli?.close();
  });

  it("runs a command with the workspace's shell and passes its exit code through", async () => {
    const r = await runCli(['ssh', ws.name, '--', 'echo $HOME; exit 3'], { env });
    assert.equal(r.stdout, '/home/kiln\n', r.stderr);
    assert.equal(r.code, 3);
    // Arguments are joined with spaces, stdin is piped, stderr stays stderr.
    const piped = await runCli(['ssh', ws.name, '--', 'wc', '-c;', 'echo', 'oops', '>&2'], { env, stdin: 'hello' });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout.trim(), '5');
    assert.equal(piped.stderr, 'oops\n');
  });

  it('an interactive session on a real terminal (tmux): prompt, resize, Ctrl-C, Ctrl-D', async () => {
    const sock = `kiln-ssh-${randomUUID().slice(0, 8)}`;
    const tmux = (...args: string[]) => run('tmux', ['-L', sock, ...args], { ...env, TERM: 'xterm-256color' });
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const envs = Object.entries({ KILN_URL: env.KILN_URL, KILN_SESSION_TOKEN: env.KILN_SESSION_TOKEN, XDG_CONFIG_HOME: env.XDG_CONFIG_HOME, HOME: env.HOME })
      .map(([k, v]) => `${k}=${quote(String(v))}`)
      .join(' ');
    const done = path.join(cli.tmp, `${sock}.exit`);
    // The pane runs kiln ssh and then writes its exit code, so the test sees how it ended.
    const command = `env ${envs} ${quote(process.execPath)} ${quote(BIN)} ssh ${ws.name}; echo $? > ${quote(done)}`;
    try {
      assert.equal((await tmux('new-session', '-d', '-x', '100', '-y', '30', command)).code, 0);
      const pane = async () => (await tmux('capture-pane', '-p', '-S', '-200')).stdout;
      const keys = (...k: string[]) => tmux('send-keys', ...k);
      const shows = (re: RegExp, what: string) => waitFor(async () => (re.test(await pane()) ? true : undefined), what, 20_000);
      await shows(/\$\s*$/m, 'the prompt');
      await keys('echo "size-$((1)): $(stty size)"', 'Enter');
      await shows(/^size-1: 30 100$/m, 'the first size');
      await tmux('resize-window', '-x', '120', '-y', '40');
      await keys('echo "size-$((2)): $(stty size)"', 'Enter');
      await shows(/^size-2: 40 120$/m, 'the size after the resize');
      await keys('sleep 600; echo "not-$((0))-interrupted"', 'Enter');
      await shows(/sleep 600/, 'the command typed');
      await keys('C-c');
      await keys('echo "after-$((40+2))"', 'Enter');
      await shows(/^after-42$/m, 'the prompt after Ctrl-C');
      assert.ok(!(await pane()).includes('not-0-interrupted'));
      await keys('C-d');
      const code = await waitFor(async () => (await readFile(done, 'utf8').catch(() => '')).trim() || undefined, 'kiln ssh to end', 20_000);
      assert.equal(code, '0');
    } finally {
      await tmux('kill-server');
    }
  });

  it('config-ssh writes a marked, idempotent, removable block; OpenSSH, scp, sftp and ssh -L work through it', async () => {
    const file = path.join(cli.tmp, 'ssh_config');
    await writeFile(file, 'Host mine\n  HostName example.com\n');
    const first = await runCli(['config-ssh', '--ssh-config-file', file], { env });
    assert.equal(first.code, 0, first.stderr);
    const once = await readFile(file, 'utf8');
    assert.ok(once.startsWith('Host mine\n  HostName example.com\n\n# ------------START-KILN-----------\n'), once);
    assert.match(once, new RegExp(`^Host kiln\\.${ws.name}$`, 'm'));
    assert.equal((await runCli(['config-ssh', '--ssh-config-file', file], { env })).code, 0);
    assert.equal(await readFile(file, 'utf8'), once, 'a second run changes nothing');

    const host = `kiln.${ws.name}`;
    const hostname = await run('ssh', ['-F', file, host, 'hostname'], env);
    assert.equal(hostname.code, 0, hostname.stderr);
    assert.equal(hostname.stdout.trim(), ws.name);
    assert.equal((await run('ssh', ['-F', file, host, 'exit 7'], env)).code, 7);

    const up = path.join(cli.tmp, 'up.bin');
    const down = path.join(cli.tmp, 'down.bin');
    const data = randomBytes(10 * 1024 * 1024);
    await writeFile(up, data);
    const put = await run('scp', ['-F', file, up, `${host}:big.bin`], env);
    assert.equal(put.code, 0, put.stderr);
    const remoteSum = await run('ssh', ['-F', file, host, 'sha256sum big.bin'], env);
    assert.equal(remoteSum.stdout.split(' ')[0], sha(data));
    const get = await run('scp', ['-F', file, `${host}:big.bin`, down], env);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(sha(await readFile(down)), sha(data));
    const batch = path.join(cli.tmp, 'sftp-batch');
    await writeFile(batch, 'ls -1\n');
    const ls = await run('sftp', ['-F', file, '-b', batch, host], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /big\.bin/);
    assert.match(ls.stdout, /index\.html/);
    await rm(up);
    await rm(down);

    // TCP forwarding inside SSH (ssh -L, as VS Code uses it): the workspace's app on a local port.
    const fwdPort = await freePort();
    const fwd = spawn('ssh', ['-F', file, '-N', '-L', `127.0.0.1:${fwdPort}:127.0.0.1:8000`, host], { env, stdio: 'ignore' });
    try {
      const body = await waitFor(async () => {
        try {
          return (await (await fetch(`http://127.0.0.1:${fwdPort}/`)).text()).trim();
        } catch {
          return undefined;
        }
      }, 'the app through ssh -L', 20_000);
      assert.equal(body, `hello from ${ws.name}`);
    } finally {
      const exited = fwd.exitCode !== null || fwd.signalCode !== null ? Promise.resolve() : new Promise((r) => fwd.once('exit', r));
      fwd.kill();
      await exited;
    }

    const removed = await runCli(['config-ssh', '--ssh-config-file', file, '--remove'], { env });
    assert.equal(removed.code, 0);
    assert.equal(await readFile(file, 'utf8'), 'Host mine\n  HostName example.com\n');
  });

  it("port-forward reaches the workspace's app on the user's loopback, and stops with the command", async () => {
    const local = await freePort();
    const pf = spawnCli(['port-forward', ws.name, '--tcp', `${local}:8000`], env);
    await waitFor(() => (pf.stdout.text.includes('Forwarding') ? true : undefined), 'the forward listening', 20_000);
    const res = await fetch(`http://127.0.0.1:${local}/`);
    assert.equal((await res.text()).trim(), `hello from ${ws.name}`);
    pf.child.kill('SIGINT');
    assert.equal(await pf.exit, 0);
    await assert.rejects(fetch(`http://127.0.0.1:${local}/`));
  });

  it('another user cannot reach the workspace: 404 as for builds', async () => {
    const agent = await latestAgent(owner, ws.id);
    for (const what of ['ssh', { port: 8000 }] as const) {
      await assert.rejects(dialAgentStream(other.client, agent.id, what), (e: unknown) => isSdkError(e, 404));
    }
  });

  it('a stopped workspace refuses with a clear message', async () => {
    const agent = await latestAgent(owner, ws.id);
    const stop = await owner.createWorkspaceBuild(ws.id, { transition: 'stop' });
    assert.equal((await waitForBuild(owner, stop.id, undefined, 30_000)).job.status, 'succeeded');
    await assert.rejects(dialAgentStream(owner, agent.id, 'ssh'), (e: unknown) => isSdkError(e, 400) && /is not running/.test(e.message));
    const r = await runCli(['ssh', ws.name, '--', 'true'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not running \(stopped\)/);
    assert.match(r.stderr, new RegExp(`kiln start ${ws.name}`));
  });
});
