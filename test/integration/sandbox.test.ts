import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { findBwrap, which } from '../../src/provisioners/local/sandbox.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { createLocalTemplate, exampleKilnJson, killAll, latestAgent, localState, withSelfCheck } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

/**
 * Runs inside a workspace and tries every way out the issue lists; prints ESCAPED or BLOCKED per attempt, then DONE.
 * Its targets come in ESCAPE_CFG: files to read and write, host loopback TCP ports, host unix sockets.
 */
const ESCAPE_JS = `
const fs = require('fs'), net = require('net');
const cfg = JSON.parse(process.env.ESCAPE_CFG);
const out = (ok, what) => console.log((ok ? 'ESCAPED ' : 'BLOCKED ') + what);
const conn = (o) => new Promise((r) => { const c = net.connect(o); c.setTimeout(3000, () => { c.destroy(); r(false); }); c.on('connect', () => { c.destroy(); r(true); }); c.on('error', () => r(false)); });
(async () => {
  for (const f of cfg.read) { try { fs.readFileSync(f); out(true, 'read ' + f); } catch (e) { out(false, 'read ' + f + ' ' + e.code); } }
  for (const f of cfg.write) { try { fs.writeFileSync(f, 'x'); out(true, 'write ' + f); } catch (e) { out(false, 'write ' + f + ' ' + e.code); } }
  for (const p of cfg.tcp) out(await conn({ host: '127.0.0.1', port: p }), 'tcp 127.0.0.1:' + p);
  for (const s of cfg.unix) out(await conn({ path: s }), 'unix ' + s);
  console.log('ESCAPE-DONE');
})();
`;

/** TCP ports listening on the host's loopback (and on every address) right now, from /proc/net/tcp. */
async function hostLoopbackPorts(): Promise<number[]> {
  const ports = new Set<number>();
  for (const f of ['/proc/net/tcp']) {
    for (const line of (await readFile(f, 'utf8')).split('\n').slice(1)) {
      const [, local, , st] = line.trim().split(/\s+/);
      if (st !== '0A' || !local) continue; // LISTEN
      const [addr, port] = local.split(':');
      if (addr === '0100007F' || addr === '00000000') ports.add(parseInt(port as string, 16));
    }
  }
  return [...ports].slice(0, 60);
}

interface Env {
  srv: TestServer;
  owner: TestUser & { organizationId: string };
}

async function startEnv(unsandboxed: boolean): Promise<Env> {
  // Its own embedded PostgreSQL: the password file and the cluster's socket are among the things to protect.
  const srv = await startTestServer({
    provisionerDaemons: 2,
    overrides: { agentConnectionUpdateMs: 500 },
    config: { postgresUrl: undefined, ephemeralPostgres: true, localUnsandboxed: unsandboxed },
  });
  return { srv, owner: await srv.createFirstUser() };
}

async function stopEnv(e: Env | undefined): Promise<void> {
  if (!e) return;
  await killAll(`KILN_AGENT_URL=${e.srv.url}`);
  await e.srv.close();
}

async function createWorkspace(e: Env, doc: unknown, name = `ws-${randomUUID().slice(0, 8)}`, port?: number): Promise<Workspace> {
  const { template } = await createLocalTemplate(e.owner.client, e.owner.organizationId, doc);
  return e.owner.client.createWorkspace(e.owner.organizationId, 'me', {
    template_id: template.id,
    name,
    parameter_values: port === undefined ? [] : [{ name: 'port', source_value: String(port), source_scheme: 'data', destination_scheme: 'provisioner_variable' }],
  });
}

async function readyAgent(e: Env, ws: Workspace) {
  const b = await waitForBuild(e.owner.client, ws.latest_build.id, undefined, 60_000);
  assert.equal(b.job.status, 'succeeded', b.job.error);
  const agent = await waitFor(async () => {
    const a = await latestAgent(e.owner.client, ws.id);
    return a.status === 'connected' && ['ready', 'start_error'].includes(a.lifecycle_state) ? a : undefined;
  }, 'agent connected, startup over', 30_000);
  return { build: b, agent };
}

const startupLines = async (e: Env, agentId: string) => (await e.owner.client.workspaceAgentStartupLogs(agentId)).map((l) => l.output);

/** A victim workspace with a secret in its home, and an attacker workspace running ESCAPE_JS; returns its verdicts. */
async function attempt(e: Env, runSocket: string): Promise<string[]> {
  const victim = await createWorkspace(e, { agents: [{ name: 'main', startup_script: 'echo secret > $HOME/secret.txt' }] });
  await readyAgent(e, victim);
  const victimHome = path.join(e.srv.dataDir, 'workspaces', victim.id, 'home');
  const cfg = {
    read: [path.join(e.srv.dataDir, 'postgres-password'), path.join(victimHome, 'secret.txt'), '/etc/shadow', '/root/.bashrc'],
    write: ['/usr/kiln-escape', '/etc/kiln-escape', '/kiln-escape', path.join(e.srv.dataDir, 'kiln-escape'), path.join(victimHome, 'kiln-escape'), '/var/tmp/kiln-escape'],
    tcp: await hostLoopbackPorts(),
    unix: [runSocket, path.join(e.srv.dataDir, 'pg-socket', '.s.PGSQL.5432')],
  };
  assert.ok(cfg.tcp.includes(Number(new URL(e.srv.url).port)), 'the kiln server is among the ports tried');
  const attacker = await createWorkspace(e, {
    agents: [{ name: 'main', env: { ESCAPE_CFG: JSON.stringify(cfg) }, startup_script: `cat > "$HOME/escape.js" <<'JS'\n${ESCAPE_JS}\nJS\nnode "$HOME/escape.js"` }],
  });
  const { agent } = await readyAgent(e, attacker);
  const lines = await waitFor(async () => {
    const l = await startupLines(e, agent.id);
    return l.includes('ESCAPE-DONE') ? l : undefined;
  }, 'the escape script finished', 30_000);
  const verdicts = lines.filter((l) => /^(ESCAPED|BLOCKED) /.test(l));
  assert.equal(verdicts.length, cfg.read.length + cfg.write.length + cfg.tcp.length + cfg.unix.length, lines.join('\n'));
  return verdicts;
}

describe('sandboxed workspaces cannot reach the host', () => {
  let e: Env | undefined;
  let u: Env | undefined;
  let runSocket: net.Server | undefined;
  const runSocketPath = `/run/kiln-test-${randomUUID().slice(0, 8)}.sock`;

  before(async () => {
    assert.ok(await findBwrap(), 'bwrap is required for these tests: apt-get install -y bubblewrap');
    runSocket = net.createServer((c) => c.end());
    await new Promise<void>((r) => runSocket?.listen(runSocketPath, r));
    // Anyone may connect: only the sandbox (which hides /run) can keep a workspace from it.
    await chmod(runSocketPath, 0o666);
    e = await startEnv(false);
  });
  after(async () => {
    await stopEnv(e);
    await stopEnv(u);
    await new Promise((r) => runSocket?.close(r));
    await rm(runSocketPath, { force: true });
  });

  it('from inside a workspace: the PG password, host loopback ports, host /run sockets, other homes and writes outside the home all fail', async () => {
    const env = e as Env;
    const verdicts = await attempt(env, runSocketPath);
    assert.deepEqual(verdicts.filter((v) => v.startsWith('ESCAPED')), [], verdicts.join('\n'));
  });

  it('the same script under --local-unsandboxed escapes (the test detects escapes), and its builds say UNSANDBOXED', async () => {
    const un = await startEnv(true);
    u = un;
    const verdicts = await attempt(un, runSocketPath);
    const escaped = verdicts.filter((v) => v.startsWith('ESCAPED'));
    assert.ok(escaped.some((v) => v.includes('postgres-password')), verdicts.join('\n'));
    assert.ok(escaped.some((v) => v === `ESCAPED tcp 127.0.0.1:${new URL(un.srv.url).port}`), verdicts.join('\n'));
    assert.ok(escaped.some((v) => v.includes(runSocketPath)), verdicts.join('\n'));
    const ws = (await un.owner.client.workspaces({})).workspaces[0] as Workspace;
    const logs = await un.owner.client.workspaceBuildLogs(ws.latest_build.id);
    assert.ok(logs.some((l) => l.log_level === 'warn' && l.output.includes('UNSANDBOXED')), JSON.stringify(logs));
    await stopEnv(un);
    u = undefined;
  });

  it('two workspaces of examples/local-dev both serve on port 8000; each health check is about its own app', async () => {
    const env = e as Env;
    const doc = await exampleKilnJson();
    withSelfCheck(doc);
    const [a, b] = await Promise.all([createWorkspace(env, doc, `a-${randomUUID().slice(0, 6)}`, 8000), createWorkspace(env, doc, `b-${randomUUID().slice(0, 6)}`, 8000)]);
    for (const ws of [a, b] as Workspace[]) {
      const { build, agent } = await readyAgent(env, ws);
      assert.equal(agent.lifecycle_state, 'ready');
      await waitFor(async () => (await latestAgent(env.owner.client, ws.id)).apps[0]?.health === 'healthy', `${ws.name}: app healthy`, 15_000);
      assert.ok((await startupLines(env, agent.id)).includes(`self-check: hello from ${ws.name}`), `${ws.name} answers with its own greeting on its own port 8000`);
      // Its own server bound the port: no EADDRINUSE, so the healthy check is about this workspace's app.
      const home = (await localState(env.owner.client, build.id)).home;
      assert.doesNotMatch(await readFile(path.join(home, 'web.log'), 'utf8'), /EADDRINUSE/);
    }
  });

  it('no bwrap on PATH: the build fails with the install hint; outbound network without slirp4netns says so', async () => {
    const env = e as Env;
    const saved = process.env.PATH;
    const onlyBwrap = await mkdtemp(path.join(os.tmpdir(), 'kiln-path-'));
    await symlink((await which('bwrap')) as string, path.join(onlyBwrap, 'bwrap'));
    try {
      process.env.PATH = '/nonexistent';
      const ws = await createWorkspace(env, { agents: [{ name: 'main' }] });
      const b = await waitForBuild(env.owner.client, ws.latest_build.id, undefined, 30_000);
      assert.equal(b.job.status, 'failed');
      assert.match(b.job.error ?? '', /apt-get install bubblewrap/);
      assert.match(b.job.error ?? '', /--local-unsandboxed/);

      process.env.PATH = onlyBwrap;
      const ws2 = await createWorkspace(env, { network: 'outbound', agents: [{ name: 'main' }] });
      const b2 = await waitForBuild(env.owner.client, ws2.latest_build.id, undefined, 30_000);
      assert.equal(b2.job.status, 'failed');
      assert.match(b2.job.error ?? '', /slirp4netns/);
    } finally {
      process.env.PATH = saved;
      await rm(onlyBwrap, { recursive: true, force: true });
    }
  });

  it('network "outbound": the workspace gets a route out through slirp4netns, still not to the host loopback', async () => {
    const env = e as Env;
    const port = new URL(env.srv.url).port;
    // 10.0.2.2 is slirp4netns's gateway, which would be the host's loopback without --disable-host-loopback.
    const probe = `node -e "const c=require('net').connect(${port},'10.0.2.2');c.setTimeout(3000,()=>{console.log('gateway: blocked');process.exit()});c.on('connect',()=>{console.log('gateway: ESCAPED');process.exit()});c.on('error',()=>{console.log('gateway: blocked');process.exit()})"`;
    const ws = await createWorkspace(env, { network: 'outbound', agents: [{ name: 'main', startup_script: `for i in $(seq 50); do ip -o addr show tap0 2>/dev/null | grep -q 10.0.2 && break; grep -q tap0 /proc/net/dev && break; sleep 0.1; done\ngrep -q tap0 /proc/net/dev && echo "tap0: present"\n${probe}` }] });
    const { build, agent } = await readyAgent(env, ws);
    const agentPid = (await localState(env.owner.client, build.id)).agents[0]?.pid as number;
    const logs = await env.owner.client.workspaceBuildLogs(build.id);
    assert.ok(logs.some((l) => l.output.includes('outbound through slirp4netns')), JSON.stringify(logs));
    const lines = await startupLines(env, agent.id);
    assert.ok(lines.includes('tap0: present'), lines.join('\n'));
    assert.ok(lines.includes('gateway: blocked'), lines.join('\n'));
    // Stop ends slirp4netns with the rest of the workspace (it is in the workspace's cgroup).
    const stop = await env.owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    assert.equal((await waitForBuild(env.owner.client, stop.id, undefined, 60_000)).job.status, 'succeeded');
    const slirps = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
    for (const p of slirps) {
      const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
      assert.ok(!(cmd.startsWith('/usr/bin/slirp4netns') && cmd.includes(`/proc/${agentPid}/ns/net`)), 'slirp4netns ended with the workspace');
    }
  });
});
