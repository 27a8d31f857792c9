import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { AgentClient, CoordinateRefused } from '../../src/sdk/agentsdk.js';
import { isSdkError } from '../../src/sdk/errors.js';
import { startTestServer, type TestServer } from '../harness/server.js';

/** One raw request over the socket (no client-side path normalisation). */
function raw(socketPath: string, method: string, p: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: p, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the agent socket', () => {
  let srv: TestServer;
  let socketPath: string;
  let token: string;

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    const owner = await srv.createFirstUser();
    token = owner.client.token as string;
    socketPath = (srv.server.api.agentSocket as { socketPath: string }).socketPath;
  });
  after(async () => {
    await srv?.close();
  });

  it('lives in <data-dir>/agent-api, which other host users cannot enter', async () => {
    assert.equal(socketPath, path.join(srv.dataDir, 'agent-api', 'sock', 'agent.sock'));
    const mode = (await stat(path.join(srv.dataDir, 'agent-api'))).mode & 0o777;
    assert.equal(mode & 0o007, 0, `mode ${mode.toString(8)}`);
  });

  it('serves the agent API, agent-token authenticated, over HTTP and WebSocket', async () => {
    const c = new AgentClient('http://localhost', randomUUID(), { socketPath });
    await assert.rejects(c.metadata(), (e: unknown) => isSdkError(e) && e.status === 401);
    await assert.rejects(c.coordinate(), (e: unknown) => e instanceof CoordinateRefused && e.status === 401);
  });

  it('answers 404 to everything else, a user session token and dot segments included', async () => {
    for (const p of ['/healthz', '/api/v2/buildinfo', '/api/v2/users/me', '/', '/api/v2/workspaceagents/me/../../users/me', '/api/v2/workspaceagents/me/%2e%2e/%2e%2e/users/me', '/api/v2/workspaceagentsX']) {
      const r = await raw(socketPath, 'GET', p, { 'Coder-Session-Token': token });
      assert.equal(r.status, 404, p);
      assert.equal((JSON.parse(r.body) as { message: string }).message, 'Route not found.');
    }
    // A WebSocket upgrade outside the prefix is refused the same way.
    const up = await raw(socketPath, 'GET', '/api/v2/users/me', { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' }).catch((e: Error) => ({ status: -1, body: e.message }));
    assert.equal(up.status, 404, up.body);
  });
});
