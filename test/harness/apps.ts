import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { KilnClient } from '../../src/sdk/client.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';

import { createLocalTemplate, freePort, latestAgent } from './local.js';
import { waitForBuild } from './templates.js';
import { waitFor } from './wait.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * An app that answers with what it received (greeting, path, headers) as JSON, tries to set kiln's session cookie
 * next to one of its own, and echoes WebSocket messages after a first frame with the upgrade request's headers.
 * `GET /big` is 8 MiB of a known pattern; a POST is answered with its own body.
 */
const APP_JS = `
const http = require('http');
const { WebSocketServer } = require('ws');
const s = http.createServer((q, r) => {
  if (q.url === '/big') {
    const b = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < b.length; i++) b[i] = (i * 7) % 251;
    return r.end(b);
  }
  if (q.method === 'POST') return q.pipe(r);
  r.setHeader('content-type', 'application/json');
  r.setHeader('set-cookie', ['coder_session_token=planted; Path=/', 'app_cookie=1; Path=/']);
  r.end(JSON.stringify({ greeting: process.env.GREETING, url: q.url, headers: q.headers }));
});
new WebSocketServer({ server: s }).on('connection', (ws, q) => {
  ws.send(JSON.stringify({ headers: q.headers }));
  ws.on('message', (m) => ws.send('echo: ' + m));
});
s.listen(process.env.PORT, '127.0.0.1');
`;

/** A local workspace (real sandbox, real agent) whose app `web` on agent `main` is the header-echo app above. */
export async function createHeaderEchoWorkspace(client: KilnClient, orgId: string): Promise<Workspace> {
  const port = await freePort();
  const { template } = await createLocalTemplate(client, orgId, {
    parameters: { port: 'PORT' },
    agents: [
      {
        name: 'main',
        // The app uses kiln's own `ws` package: a workspace has no network to install one.
        env: { GREETING: 'hello from ${KILN_WORKSPACE_NAME}', NODE_PATH: path.join(root, 'node_modules') },
        startup_script: `cat > app.js <<'EOF'\n${APP_JS}\nEOF\nnohup node app.js > app.log 2>&1 &`,
        apps: [{ slug: 'web', display_name: 'Web', url: 'http://127.0.0.1:${PORT}', healthcheck: { url: 'http://127.0.0.1:${PORT}/', interval: 1, threshold: 3 } }],
      },
    ],
  });
  const ws = await client.createWorkspace(orgId, 'me', {
    template_id: template.id,
    name: `ws-${randomUUID().slice(0, 8)}`,
    parameter_values: [{ name: 'port', source_value: String(port), source_scheme: 'data', destination_scheme: 'provisioner_variable' }],
  });
  const b = await waitForBuild(client, ws.latest_build.id, undefined, 30_000);
  assert.equal(b.job.status, 'succeeded', b.job.error);
  await waitFor(async () => (await latestAgent(client, ws.id)).apps[0]?.health === 'healthy', 'app healthy', 15_000);
  return ws;
}
