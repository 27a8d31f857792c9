import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { findBwrap } from '../../src/provisioners/local/sandbox.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { expectApiError } from '../harness/expect.js';
import { createLocalTemplate, exampleKilnJson, freePort, isRunning, killAll, latestAgent, localState, pidsWithEnv, withSelfCheck } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

const exists = (p: string) => access(p).then(() => true, () => false);

describe('local workspaces (real sandbox, real processes)', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let org: string;

  before(async () => {
    // A sandbox is part of what these tests check: say loudly when there is none rather than pass without it.
    assert.ok(await findBwrap(), 'bwrap is required for these tests: apt-get install -y bubblewrap');
    srv = await startTestServer({ provisionerDaemons: 2, overrides: { agentConnectionUpdateMs: 500 } });
    owner = await srv.createFirstUser();
    org = owner.organizationId;
  });
  after(async () => {
    // Agents and everything their scripts started carry the server URL in their environment.
    if (srv) await killAll(`KILN_AGENT_URL=${srv.url}`);
    await srv?.close();
  });

  async function createFromExample(port: number, edit?: (doc: Record<string, unknown>) => void): Promise<Workspace> {
    const doc = await exampleKilnJson();
    edit?.(doc);
    const { template } = await createLocalTemplate(owner.client, org, doc);
    const ws = await owner.client.createWorkspace(org, 'me', {
      template_id: template.id,
      name: `ws-${randomUUID().slice(0, 8)}`,
      parameter_values: [{ name: 'port', source_value: String(port), source_scheme: 'data', destination_scheme: 'provisioner_variable' }],
    });
    return ws;
  }

  async function build(ws: Workspace, transition: 'start' | 'stop' | 'delete') {
    const b = await owner.client.createWorkspaceBuild(ws.id, { transition });
    const done = await waitForBuild(owner.client, b.id, undefined, 30_000);
    assert.equal(done.job.status, 'succeeded', `${transition} failed: ${done.job.error ?? ''}`);
    return done;
  }

  const waitReady = (wsId: string, ms = 10_000) =>
    waitFor(async () => {
      const a = await latestAgent(owner.client, wsId);
      return a.status === 'connected' && a.lifecycle_state === 'ready' ? a : undefined;
    }, 'agent connected and ready', ms);

  it('the example: build succeeds, agent connected + ready in 10 s, startup logs, healthy app answering in its own network; stop, start, delete', async () => {
    const port = await freePort();
    const ws = await createFromExample(port, withSelfCheck);
    const first = await waitForBuild(owner.client, ws.latest_build.id, undefined, 30_000);
    assert.equal(first.job.status, 'succeeded', first.job.error);
    const agent = await waitReady(ws.id);

    const logs = await owner.client.workspaceAgentStartupLogs(agent.id);
    assert.ok(logs.some((l) => l.output.includes(`startup: preparing ${ws.name} in /home/kiln`)), JSON.stringify(logs));
    await waitFor(async () => (await latestAgent(owner.client, ws.id)).apps[0]?.health === 'healthy', 'app healthy', 10_000);
    // The app answers on the workspace's own loopback (its network namespace), never on the host's.
    assert.ok(logs.some((l) => l.output === `self-check: hello from ${ws.name}`), JSON.stringify(logs));
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));

    const state = await localState(owner.client, first.id);
    const pids = state.agents.map((a) => a.pid as number);
    assert.ok(await exists(path.join(state.home, 'started-at.txt')), 'the startup script wrote into the home');
    await writeFile(path.join(state.home, 'mine.txt'), 'kept');

    // Stop: the agent disconnects and nothing of the workspace is left running.
    await build(ws, 'stop');
    await waitFor(async () => (await owner.client.workspaceAgent(agent.id)).status === 'disconnected', 'agent disconnected');
    for (const pid of pids) assert.equal(await isRunning(pid), false, `pid ${pid} still runs`);
    assert.deepEqual(await pidsWithEnv(`KILN_WORKSPACE_ID=${ws.id}`), []);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
    assert.match(await readFile(path.join(state.home, 'shutdowns.txt'), 'utf8'), /shutdown:/);

    // Start again: the home kept its files.
    await build(ws, 'start');
    await waitReady(ws.id);
    assert.equal(await readFile(path.join(state.home, 'mine.txt'), 'utf8'), 'kept');

    // Delete: the home is gone and the workspace answers 410.
    await build(ws, 'delete');
    assert.equal(await exists(state.dir), false);
    assert.deepEqual(await pidsWithEnv(`KILN_WORKSPACE_ID=${ws.id}`), []);
    await expectApiError(owner.client.workspace(ws.id), 410);
  });

  it('a failing startup script gives start_error with its stderr in the startup logs', async () => {
    const ws = await createFromExample(await freePort(), (doc) => {
      const a = (doc.agents as Record<string, unknown>[])[0] as Record<string, unknown>;
      a.startup_script = 'echo about to fail\necho "something broke" >&2\nexit 3';
    });
    await waitForBuild(owner.client, ws.latest_build.id, undefined, 30_000);
    const agent = await waitFor(async () => {
      const a = await latestAgent(owner.client, ws.id);
      return a.lifecycle_state === 'start_error' ? a : undefined;
    }, 'start_error', 10_000);
    const logs = await owner.client.workspaceAgentStartupLogs(agent.id);
    assert.ok(logs.some((l) => l.output === 'something broke' && l.level === 'error'), JSON.stringify(logs));
    assert.ok(logs.some((l) => l.output.includes('exited with code 3')));
    await build(ws, 'stop');
  });

  it('a process in the sandbox cannot write outside its home', async () => {
    const outside = `/var/tmp/kiln-escape-${randomUUID()}`;
    const ws = await createFromExample(await freePort(), (doc) => {
      const a = (doc.agents as Record<string, unknown>[])[0] as Record<string, unknown>;
      // /var does not exist in the sandbox at all; /usr does, read-only.
      a.startup_script = `echo escape > ${outside} || echo "refused: outside"\necho escape > /usr/kiln-escape || echo "refused: usr"\necho inside > $HOME/inside.txt && echo "wrote: inside"`;
    });
    const b = await waitForBuild(owner.client, ws.latest_build.id, undefined, 30_000);
    const agent = await waitReady(ws.id);
    const logs = (await owner.client.workspaceAgentStartupLogs(agent.id)).map((l) => l.output).join('\n');
    assert.match(logs, /Read-only file system/);
    assert.match(logs, /refused: outside/);
    assert.match(logs, /refused: usr/);
    assert.match(logs, /wrote: inside/);
    assert.equal(await exists(outside), false);
    const state = await localState(owner.client, b.id);
    assert.equal(await readFile(path.join(state.home, 'inside.txt'), 'utf8'), 'inside\n');
    await build(ws, 'stop');
  });

  it('a killed agent shows disconnected; the next start build brings it back connected', async () => {
    const ws = await createFromExample(await freePort());
    const b = await waitForBuild(owner.client, ws.latest_build.id, undefined, 30_000);
    const agent = await waitReady(ws.id);
    const pid = (await localState(owner.client, b.id)).agents[0]?.pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await owner.client.workspaceAgent(agent.id)).status === 'disconnected', 'agent disconnected');
    await build(ws, 'start');
    const again = await waitReady(ws.id);
    assert.notEqual(again.id, agent.id);
    await build(ws, 'stop');
  });
});

describe('local workspaces across a server restart', () => {
  let srv: TestServer;
  after(async () => {
    if (srv) await killAll(`KILN_AGENT_URL=${srv.url}`);
    await srv?.close();
  });

  it('running workspaces survive a restart and their agents reconnect', async () => {
    const port = await freePort();
    srv = await startTestServer({ provisionerDaemons: 1, overrides: { agentConnectionUpdateMs: 500 }, config: { address: `127.0.0.1:${await freePort()}` } });
    const owner = await srv.createFirstUser();
    const { template } = await createLocalTemplate(owner.client, owner.organizationId, await exampleKilnJson());
    const ws = await owner.client.createWorkspace(owner.organizationId, 'me', {
      template_id: template.id,
      name: 'survivor',
      parameter_values: [{ name: 'port', source_value: String(port), source_scheme: 'data', destination_scheme: 'provisioner_variable' }],
    });
    const b = await waitForBuild(owner.client, ws.latest_build.id, undefined, 30_000);
    await waitFor(async () => {
      const a = await latestAgent(owner.client, ws.id);
      return a.status === 'connected' && a.lifecycle_state === 'ready' && a.apps[0]?.health === 'healthy';
    }, 'ready with a healthy app', 10_000);
    const pid = (await localState(owner.client, b.id)).agents[0]?.pid as number;

    await srv.restart();
    assert.equal(await isRunning(pid), true, 'the agent outlived the server');
    const after = await waitFor(async () => {
      const a = await latestAgent(owner.client, ws.id);
      return a.status === 'connected' && a.disconnected_at && a.last_connected_at && a.last_connected_at > a.disconnected_at ? a : undefined;
    }, 'agent reconnected', 15_000);
    assert.equal(after.lifecycle_state, 'ready');
    // The app kept running through the restart: its health checks (inside the workspace's network) still pass.
    assert.equal(after.apps[0]?.health, 'healthy');
  });
});
