import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { workspaceCgroup } from '../../src/provisioners/local/cgroups.js';
import { processStart } from '../../src/provisioners/local/processes.js';
import { findBwrap } from '../../src/provisioners/local/sandbox.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { createLocalTemplate, exampleKilnJson, isRunning, killAll, latestAgent, localState, withSelfCheck } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

const exists = (p: string) => access(p).then(() => true, () => false);

describe('workspace limits and untrusted state (real cgroups, real processes)', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };

  before(async () => {
    assert.ok(await findBwrap(), 'bwrap is required for these tests: apt-get install -y bubblewrap');
    srv = await startTestServer({ provisionerDaemons: 3, overrides: { agentConnectionUpdateMs: 500 } });
    owner = await srv.createFirstUser();
  });
  after(async () => {
    if (srv) await killAll(`KILN_AGENT_URL=${srv.url}`);
    await srv?.close();
  });

  async function create(doc: unknown, port?: number): Promise<Workspace> {
    const { template } = await createLocalTemplate(owner.client, owner.organizationId, doc);
    return owner.client.createWorkspace(owner.organizationId, 'me', {
      template_id: template.id,
      name: `ws-${randomUUID().slice(0, 8)}`,
      parameter_values: port === undefined ? [] : [{ name: 'port', source_value: String(port), source_scheme: 'data', destination_scheme: 'provisioner_variable' }],
    });
  }

  async function build(ws: Workspace, transition: 'start' | 'stop' | 'delete', state?: unknown) {
    const b = await owner.client.createWorkspaceBuild(ws.id, { transition, ...(state ? { state: Buffer.from(JSON.stringify(state)).toString('base64') } : {}) });
    const done = await waitForBuild(owner.client, b.id, undefined, 60_000);
    assert.equal(done.job.status, 'succeeded', `${transition} failed: ${done.job.error ?? ''}`);
    return done;
  }

  const healthyBystander = async (ws: Workspace) => {
    const a = await latestAgent(owner.client, ws.id);
    return a.status === 'connected' && a.lifecycle_state === 'ready' && a.apps[0]?.health === 'healthy' ? a : undefined;
  };

  it('a fork bomb and a memory hog are contained: /healthz answers throughout, another workspace stays connected and healthy', async () => {
    const bystander = await create(await exampleKilnJson().then((d) => (withSelfCheck(d), d)), 8000);
    await waitForBuild(owner.client, bystander.latest_build.id, undefined, 60_000);
    await waitFor(() => healthyBystander(bystander), 'bystander ready and healthy', 60_000).catch(async (e: unknown) => {
      const a = await latestAgent(owner.client, bystander.id);
      const logs = await owner.client.workspaceAgentStartupLogs(a.id);
      throw new Error(`${(e as Error).message}: ${JSON.stringify({ status: a.status, lifecycle: a.lifecycle_state, apps: a.apps.map((x) => x.health), logs: logs.map((l) => l.output) })}`);
    });

    // Probes the server all along; every answer must be 200.
    const failures: string[] = [];
    let probes = 0;
    let probing = true;
    const prober = (async () => {
      while (probing) {
        try {
          const res = await fetch(`${srv.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
          if (res.status !== 200) failures.push(`status ${res.status}`);
          await res.body?.cancel();
        } catch (e) {
          failures.push((e as Error).message);
        }
        probes++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    let bomb: Workspace;
    let hog: Workspace;
    try {
      bomb = await create({
        limits: { pids: 64, cpus: 0.2, memory_mb: 256 },
        agents: [{ name: 'main', startup_script: 'nohup sh -c \'b() { b | b & }; b\' >/dev/null 2>&1 &\necho bomb started' }],
      });
      hog = await create({
        limits: { memory_mb: 160 },
        agents: [{ name: 'main', startup_script: 'nohup node -e "const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))" >/dev/null 2>&1 &\necho hog started' }],
      });
      const bombBuild = await waitForBuild(owner.client, bomb.latest_build.id, undefined, 60_000);
      const hogBuild = await waitForBuild(owner.client, hog.latest_build.id, undefined, 60_000);
      assert.equal(bombBuild.job.status, 'succeeded', bombBuild.job.error);
      assert.equal(hogBuild.job.status, 'succeeded', hogBuild.job.error);
      const logs = await owner.client.workspaceBuildLogs(bombBuild.id);
      assert.ok(logs.some((l) => l.output.includes('Limits (cgroup v') && l.output.includes('64 processes')), JSON.stringify(logs));

      // The kernel says the limits bit: the bomb hit pids.max, the hog hit the memory limit.
      const bombCg = await workspaceCgroup(bomb.id, false);
      const hogCg = await workspaceCgroup(hog.id, false);
      await waitFor(async () => ((await bombCg?.events())?.pidsMax ?? 0) > 0, 'the fork bomb hit its pid limit', 60_000);
      await waitFor(async () => {
        const ev = await hogCg?.events();
        return !!ev && ev.memoryLimit === 160 * 1024 * 1024 && (ev.memoryPeak >= ev.memoryLimit || ev.oomKills > 0);
      }, 'the memory hog hit its memory limit', 60_000);

      // Meanwhile the server and the other workspace are fine.
      assert.ok(await healthyBystander(bystander), 'the other workspace stays connected with a healthy app');
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
    } finally {
      probing = false;
      await prober;
    }
    assert.ok(probes > 0);
    assert.deepEqual(failures, []);

    // Stop ends every process of the bomb, however many it forked.
    await build(bomb, 'stop');
    await build(hog, 'stop');
    assert.equal(await workspaceCgroup(bomb.id, false), undefined, 'stop ended every process and removed the cgroup');
    assert.ok(await healthyBystander(bystander));
    await build(bystander, 'stop');
  });

  it('state push of hostile paths and pids: start, stop and delete touch nothing outside the workspace', async () => {
    const canary = await mkdtemp(path.join(os.tmpdir(), 'kiln-canary-'));
    await writeFile(path.join(canary, 'keep.txt'), 'keep');
    await mkdir(path.join(canary, 'home'));
    await writeFile(path.join(canary, 'home', 'keep.txt'), 'keep');
    // A process of the host, and another workspace's agent: neither may be signalled.
    const sleeper: ChildProcess = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      const other = await create({ agents: [{ name: 'main' }] });
      const otherBuild = await waitForBuild(owner.client, other.latest_build.id, undefined, 60_000);
      const otherAgent = (await localState(owner.client, otherBuild.id)).agents[0] as { pid: number; start?: string };
      const otherStart = await processStart(otherAgent.pid);
      await waitFor(async () => (await latestAgent(owner.client, other.id)).status === 'connected', 'other agent connected', 30_000);

      const ws = await create({ agents: [{ name: 'main' }] });
      const first = await waitForBuild(owner.client, ws.latest_build.id, undefined, 60_000);
      const ownDir = (await localState(owner.client, first.id)).dir;
      assert.equal(ownDir, path.join(srv.dataDir, 'workspaces', ws.id), 'the directory derives from the workspace id');
      const sleeperStart = await processStart(sleeper.pid as number);
      const initStart = await processStart(1);
      const hostile = (dir: string) => ({
        version: 1,
        dir,
        home: path.join(canary, 'home'),
        agents: [
          { name: 'main', token: randomUUID(), pid: sleeper.pid, start: '', sandboxed: false },
          { name: 'x', token: randomUUID(), pid: sleeper.pid, start: sleeperStart, sandboxed: false },
          { name: 'y', token: randomUUID(), pid: otherAgent.pid, start: otherStart, sandboxed: false },
          { name: 'z', token: randomUUID(), pid: 1, start: initStart },
        ],
      });
      const before = (await readdir(canary)).sort();
      for (const [transition, dir] of [['stop', canary], ['start', '/'], ['stop', '/etc'], ['start', canary], ['delete', '/']] as const) {
        await build(ws, transition, hostile(dir));
        assert.deepEqual((await readdir(canary)).sort(), before, `${transition}: nothing created or removed in ${canary}`);
        assert.ok(await exists(path.join(canary, 'home', 'keep.txt')));
        assert.equal(await isRunning(sleeper.pid as number), true, `${transition}: the host process was not signalled`);
        assert.equal(await isRunning(otherAgent.pid), true, `${transition}: the other workspace's agent was not signalled`);
      }
      assert.equal(await exists(ownDir), false, 'delete removed the workspace\'s own directory');
      assert.equal((await latestAgent(owner.client, other.id)).status, 'connected');
      await build(other, 'stop');
    } finally {
      sleeper.kill('SIGKILL');
      await rm(canary, { recursive: true, force: true });
    }
  });
});
