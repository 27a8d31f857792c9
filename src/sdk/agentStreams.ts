import type { Duplex } from 'node:stream';

import WebSocket, { createWebSocketStream } from 'ws';

import type { KilnClient } from './client.js';
import { SdkError } from './errors.js';
import { SESSION_TOKEN_HEADER } from './http.js';

/**
 * A byte stream into a workspace through the server: `ssh` (an SSH connection to the agent's SSH server) or
 * `tcp?port=<n>` (a TCP connection to the workspace's loopback). A refusal (not found, not running, agent away)
 * rejects with the server's envelope as an SdkError.
 */
export function dialAgentStream(client: KilnClient, agentId: string, what: 'ssh' | { port: number }): Promise<Duplex> {
  const base = client.http.baseUrl.href.replace(/\/+$/, '').replace(/^http/, 'ws');
  const suffix = what === 'ssh' ? 'ssh' : `tcp?port=${what.port}`;
  const url = `${base}/api/v2/workspaceagents/${encodeURIComponent(agentId)}/${suffix}`;
  const ws = new WebSocket(url, { headers: client.token ? { [SESSION_TOKEN_HEADER]: client.token } : {}, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.off('error', reject);
      resolve(createWebSocketStream(ws));
    });
    ws.once('unexpected-response', (_req, res) => {
      ws.off('error', reject);
      ws.on('error', () => {});
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        let envelope: { message: string; detail?: string };
        try {
          envelope = JSON.parse(body) as { message: string; detail?: string };
        } catch {
          envelope = { message: `HTTP ${res.statusCode ?? 0}` };
        }
        reject(new SdkError(res.statusCode ?? 0, envelope as never, 'GET', url));
        ws.terminate();
      });
    });
    ws.once('error', reject);
  });
}
