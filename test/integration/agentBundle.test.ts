import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { DEFAULT_AGENT_BUNDLE } from '../../src/api/routes/agentBinary.js';
import { agentScriptEnv } from '../../src/provisionersdk/agentScript.js';
import { latestAgent } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

/** An echo workspace whose agent has a known token: a process started by the test plays the agent. */
async function workspaceWithAgent(owner: TestUser & { organizationId: string }, token: string) {
  const resources = [{ name: 'dev', type: 'machine', agents: [{ name: 'main', auth_token: token, startup_script: 'echo started by the bundle' }] }];
  const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { resources }, stop: { resources: [] } });
  const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
  const b = await waitForBuild(owner.client, ws.latest_build.id);
  assert.equal(b.job.status, 'succeeded', b.job.error);
  return ws;
}

/** Starts a process in its own group so the test can end it and everything it started. */
function startGroup(command: string, args: string[], o: { cwd: string; env: NodeJS.ProcessEnv }): ChildProcess {
  return spawn(command, args, { cwd: o.cwd, env: o.env, detached: true, stdio: 'ignore' });
}

function endGroup(p: ChildProcess | undefined): void {
  if (!p?.pid) return;
  try {
    process.kill(-p.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

describe('the standalone agent (/bin/kiln-agent.js)', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let outside: string;
  const procs: ChildProcess[] = [];

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1, overrides: { agentConnectionUpdateMs: 200 } });
    owner = await srv.createFirstUser();
    // Outside the checkout: the bundle must need nothing of it.
    outside = await mkdtemp(path.join(os.tmpdir(), 'kiln-agent-bundle-'));
  });
  after(async () => {
    for (const p of procs) endGroup(p);
    await srv?.close();
    if (outside) await rm(outside, { recursive: true, force: true });
  });

  it('is served at a stable URL as JavaScript', async () => {
    const res = await fetch(`${srv.url}/bin/kiln-agent.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.ok((await res.arrayBuffer()).byteLength > 10_000);
  });

  it('runs standalone from a directory outside the checkout and connects with CODER_AGENT_URL/CODER_AGENT_TOKEN', async () => {
    const token = randomUUID();
    const ws = await workspaceWithAgent(owner, token);
    const copy = path.join(outside, 'kiln-agent.js');
    await copyFile(DEFAULT_AGENT_BUNDLE, copy);
    const env = { PATH: process.env.PATH, HOME: outside, CODER_AGENT_URL: srv.url, CODER_AGENT_TOKEN: token };
    procs.push(startGroup(process.execPath, [copy], { cwd: outside, env }));
    const agent = await waitFor(async () => {
      const a = await latestAgent(owner.client, ws.id);
      return a.status === 'connected' && a.lifecycle_state === 'ready' ? a : undefined;
    }, 'the bundled agent to connect and turn ready', 30_000);
    assert.equal(agent.version, (await owner.client.buildInfo()).version, 'the bundle reports the server\'s version');
  });

  it('the init script fetches the bundle from the access URL and runs it, as the coder provider fills it in', async () => {
    const token = randomUUID();
    const ws = await workspaceWithAgent(owner, token);
    // What the provider does with CODER_AGENT_SCRIPT_linux_amd64: fill in the access URL (with a trailing slash) and auth.
    const script = (agentScriptEnv().CODER_AGENT_SCRIPT_linux_amd64 ?? '').replaceAll('${ACCESS_URL}', `${srv.url}/`).replaceAll('${AUTH_TYPE}', 'token');
    const env = { PATH: process.env.PATH, HOME: outside, TMPDIR: outside, CODER_AGENT_TOKEN: token };
    procs.push(startGroup('/bin/sh', ['-c', script], { cwd: outside, env }));
    await waitFor(async () => (await latestAgent(owner.client, ws.id)).status === 'connected', 'the agent started by the init script to connect', 30_000);
  });
});
