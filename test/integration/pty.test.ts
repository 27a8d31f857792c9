import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { createLogger } from '../../src/lib/logger.js';
import { findBwrap } from '../../src/provisioners/local/sandbox.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { createLocalTemplate, killAll, latestAgent, pidsWithEnv } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

/** A terminal client speaking Coder's reconnecting-PTY framing, collecting everything the server sent. */
interface Term {
  ws: WebSocket;
  output(): string;
  send(req: { data?: string; width?: number; height?: number }): void;
  /** Resolves with the output once `re` matches it. */
  waitFor(re: RegExp, what: string): Promise<string>;
  closed: Promise<{ code: number }>;
  close(): Promise<void>;
}

function openTerm(base: string, token: string, agentId: string, q: Record<string, string>): Promise<Term> {
  const url = new URL(`/api/v2/workspaceagents/${agentId}/pty`, base.replace(/^http/, 'ws'));
  for (const [k, v] of Object.entries(q)) url.searchParams.set(k, v);
  const ws = new WebSocket(url, { headers: { 'Coder-Session-Token': token } });
  let out = '';
  ws.on('message', (d: Buffer) => (out += d.toString('utf8')));
  const closed = new Promise<{ code: number }>((resolve) => ws.on('close', (code) => resolve({ code })));
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body: JSON.parse(body) as unknown })));
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        output: () => out,
        send: (r) => ws.send(JSON.stringify(r)),
        waitFor: (re, what) =>
          waitFor(() => (re.test(out) ? out : undefined), what, 15_000).catch((e: Error) => {
            throw new Error(`${e.message}; the terminal showed: ${JSON.stringify(out.slice(-600))}`);
          }),
        closed,
        close: async () => {
          ws.close();
          await closed;
        },
      }),
    );
  });
}

describe('reconnecting PTY into a sandboxed workspace', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let other: TestUser;
  let ws: Workspace;
  let agentId: string;
  /** The server's log lines (the audit line of a site owner's terminal is checked). */
  const logLines: { msg: string; [k: string]: unknown }[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(l) as { msg: string });
      cb();
    },
  });

  before(async () => {
    assert.ok(await findBwrap(), 'bwrap is required for these tests: apt-get install -y bubblewrap');
    srv = await startTestServer({ provisionerDaemons: 1, logger: createLogger('info', logStream), overrides: { ptyLimits: { idleTimeoutMs: 1_500, bufferBytes: 4096, maxSessions: 3 } } });
    owner = await srv.createFirstUser();
    other = await srv.createUser(owner.client);
    const { template } = await createLocalTemplate(owner.client, owner.organizationId, {
      agents: [{ name: 'main', directory: '~', env: { GREETING: 'hi from ${KILN_WORKSPACE_NAME}' }, startup_script: 'mkdir -p ~/project' }],
    });
    ws = await owner.client.createWorkspace(owner.organizationId, 'me', { template_id: template.id, name: `pty-${randomUUID().slice(0, 8)}` });
    const b = await waitForBuild(owner.client, ws.latest_build.id, undefined, 30_000);
    assert.equal(b.job.status, 'succeeded', b.job.error);
    agentId = (await latestAgent(owner.client, ws.id)).id;
    await waitFor(async () => (await latestAgent(owner.client, ws.id)).lifecycle_state === 'ready', 'agent ready', 20_000);
  });
  after(async () => {
    if (srv) await killAll(`KILN_AGENT_URL=${srv.url}`);
    await srv?.close();
  });

  it("runs the workspace user's shell in its directory and environment, follows resizes, and Ctrl-C interrupts", async () => {
    const t = await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: randomUUID(), width: '100', height: '30' });
    t.send({ data: 'echo "[$(id -u) $PWD $GREETING]"; stty size\r' });
    await t.waitFor(/\[1000 \/home\/kiln hi from pty-[0-9a-f]{8}\]\r?\n30 100/, 'id, directory, environment and size');
    assert.ok(!/KILN_AGENT_TOKEN=|CODER_AGENT_TOKEN=/.test(t.output()));
    t.send({ data: 'env | grep -c AGENT_TOKEN; echo done-env\r' });
    await t.waitFor(/[\r\n]0\r?\ndone-env/, "the agent's token is not in the terminal's environment");
    t.send({ width: 120, height: 40 });
    t.send({ data: 'stty size\r' });
    await t.waitFor(/40 120/, 'the new size');
    t.send({ data: 'sleep 600; echo not-$((0+1))-interrupted\r' });
    await waitFor(async () => t.output().includes('sleep 600'), 'the command echoed');
    t.send({ data: '\x03' });
    t.send({ data: 'echo after-$((40+2))\r' });
    await t.waitFor(/after-42/, 'the prompt after Ctrl-C');
    assert.ok(!t.output().includes('not-1-interrupted'));
    // Ctrl-D ends the shell, and with it the terminal: the WebSocket closes.
    t.send({ data: '\x04' });
    assert.equal((await t.closed).code, 1000);
  });

  it('a reconnect with the same id resumes the same shell and replays its recent output', async () => {
    const id = randomUUID();
    const first = await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: id });
    first.send({ data: 'export MARK=kept-$((1+1)); echo "first-$$"\r' });
    const pid = /first-(\d+)/.exec(await first.waitFor(/first-\d+/, 'the shell pid'))?.[1];
    await first.close();
    const second = await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: id });
    await second.waitFor(/first-\d+/, 'the replayed output');
    second.send({ data: 'echo "again-$$-$MARK"\r' });
    await second.waitFor(new RegExp(`again-${pid}-kept-2`), 'the same shell');
    // More output than the replay buffer keeps (4096 bytes here): a reconnect gets the tail only.
    second.send({ data: 'seq 1 3000; echo tail-$((1+1))-done\r' });
    await second.waitFor(/tail-2-done\r?\n/, 'the long output');
    await second.close();
    const third = await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: id });
    await third.waitFor(/tail-2-done/, 'the replayed tail');
    assert.ok(Buffer.byteLength(third.output()) <= 4096, `replayed ${Buffer.byteLength(third.output())} bytes`);
    assert.ok(!third.output().includes(`first-${pid}`), 'the oldest output is gone');
    await third.close();
  });

  it('a terminal nobody is attached to ends after the idle timeout; a command terminal ends with its command', async () => {
    const mark = `KILN_TEST_MARK=${randomUUID()}`;
    const t = await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: randomUUID(), command: `exec env ${mark} sleep 1000` });
    await waitFor(async () => ((await pidsWithEnv(mark)).length === 1 ? true : undefined), 'the terminal process');
    await t.close();
    await waitFor(async () => ((await pidsWithEnv(mark)).length === 0 ? true : undefined), 'the process ended after the idle timeout', 20_000);
    const cmd = await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: randomUUID(), command: 'echo from-command; exit 0' });
    await cmd.waitFor(/from-command/, 'the command output');
    assert.equal((await cmd.closed).code, 1000);
  });

  it('refuses more terminals than the limit with an envelope', async () => {
    const open: Term[] = [];
    try {
      // The earlier tests' terminals may still be winding down; the limit (3) is reached either way.
      for (let i = 0; i < 3; i++) {
        try {
          open.push(await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: randomUUID() }));
        } catch (e) {
          assert.equal((e as { status: number }).status, 502);
          break;
        }
      }
      const err = (await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: randomUUID() }).then(
        () => assert.fail('a fourth terminal opened'),
        (e: unknown) => e,
      )) as { status: number; body: { message: string; detail: string } };
      assert.equal(err.status, 502);
      assert.equal(err.body.message, 'The workspace agent refused the connection.');
      assert.match(err.body.detail, /too many terminals: this workspace has 3 open/);
    } finally {
      for (const t of open) {
        t.send({ data: 'exit\r' });
        await t.closed;
      }
    }
  });

  it('checks its query, and another user gets 404 as for builds', async () => {
    const bad = (await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: 'nope' }).catch((e: unknown) => e)) as { status: number; body: { message: string } };
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, 'Query param "reconnect" must be a valid UUID.');
    const size = (await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: randomUUID(), width: '70000' }).catch((e: unknown) => e)) as { status: number };
    assert.equal(size.status, 400);
    const theirs = (await openTerm(srv.url, other.client.token as string, agentId, { reconnect: randomUUID() }).catch((e: unknown) => e)) as { status: number; body: { message: string } };
    assert.equal(theirs.status, 404);
    assert.equal(theirs.body.message, 'Resource not found or you do not have access to this resource');
    // A site owner may (the server logs it).
    const admin = await srv.createUser(owner.client, ['owner']);
    const t = await openTerm(srv.url, admin.client.token as string, agentId, { reconnect: randomUUID(), command: 'echo admin-$((3*3))' });
    await t.waitFor(/admin-9/, "the site owner's command");
    await t.closed;
    const audit = logLines.filter((l) => l.msg === "a site owner opened a connection to another user's workspace");
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.user, admin.username);
    assert.equal(audit[0]?.agentId, agentId);
    assert.equal(audit[0]?.what, 'terminal');
  });

  it('a stop closes an open terminal, and a stopped workspace refuses new ones with a clear message', async () => {
    const t = await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: randomUUID() });
    t.send({ data: 'echo ready-$((2*3))\r' });
    await t.waitFor(/ready-6/, 'the shell');
    const stop = await owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    await t.closed;
    const b = await waitForBuild(owner.client, stop.id, undefined, 30_000);
    assert.equal(b.job.status, 'succeeded', b.job.error);
    const err = (await openTerm(srv.url, owner.client.token as string, agentId, { reconnect: randomUUID() }).catch((e: unknown) => e)) as {
      status: number;
      body: { message: string; detail: string };
    };
    assert.equal(err.status, 400);
    assert.equal(err.body.message, `The workspace "${ws.name}" is not running.`);
    assert.match(err.body.detail, /latest build is a stop build/);
  });
});
