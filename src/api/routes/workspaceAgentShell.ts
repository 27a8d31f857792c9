import type { Duplex } from 'node:stream';

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

import { isUuid, type PtyOpenSpec } from '../../sdk/tunnel/pty.js';
import type { ServerContext } from '../context.js';
import { errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { errorResponses, uuidParams } from '../schemas/common.js';
import { openAgentStream, resolveShellTarget } from '../shell/access.js';
import { relayPty } from '../shell/pty.js';
import { relayBytes } from '../shell/relay.js';

const tags = ['Agents'];

function sizeParam(q: Record<string, unknown>, name: string): number {
  const raw = q[name];
  if (raw === undefined || raw === '') return 0;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw errors.badRequest(`Query param "${name}" must be a valid 16-bit unsigned integer.`, undefined, [{ field: name, detail: 'Must be an integer from 0 to 65535' }]);
  }
  return Number(raw);
}

/**
 * Streams into a workspace for its owner: the reconnecting PTY (Coder's `GET /workspaceagents/{id}/pty`). The agent
 * is reached over its tunnel (docs/agent-protocol.md); the stream is opened before the WebSocket is accepted, so every
 * refusal (not found, not running, agent away, too many terminals) is an HTTP error envelope.
 */
export async function workspaceAgentShellRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);

  app.route<{ Params: { workspaceagent: string }; Querystring: Record<string, string> }>({
    method: 'GET',
    url: '/api/v2/workspaceagents/:workspaceagent/pty',
    onRequest: auth,
    schema: { tags, params: uuidParams('workspaceagent'), response: errorResponses },
    preHandler: async (req) => {
      const q = (req.query ?? {}) as Record<string, unknown>;
      const reconnect = typeof q.reconnect === 'string' ? q.reconnect : '';
      if (!isUuid(reconnect)) {
        throw errors.badRequest('Query param "reconnect" must be a valid UUID.', `invalid UUID: "${reconnect}"`, [{ field: 'reconnect', detail: 'Must be a UUID' }]);
      }
      const width = sizeParam(q, 'width');
      const height = sizeParam(q, 'height');
      const command = typeof q.command === 'string' ? q.command : '';
      if (!req.headers.upgrade) throw errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade.');
      const { agent } = await resolveShellTarget(ctx, subjectOf(req), req.params.workspaceagent, 'terminal');
      const l = ctx.options.ptyLimits;
      const spec: PtyOpenSpec = {
        kind: 'pty',
        reconnect,
        width,
        height,
        command,
        idle_timeout_ms: l.idleTimeoutMs,
        buffer_bytes: l.bufferBytes,
        max_sessions: l.maxSessions,
      };
      const stream = await openAgentStream(ctx, agent.id, spec as never);
      // Until the WebSocket takes it over, the stream is the request's: a handshake that fails must not leak it.
      req.raw.socket.once('close', () => {
        if (!req.shellStream?.claimed) stream.destroy();
      });
      req.shellStream = { stream, claimed: false };
    },
    handler: async () => {
      throw errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade.');
    },
    wsHandler: (socket: WebSocket, req: FastifyRequest) => {
      const s = req.shellStream;
      if (!s) return socket.close(1011);
      s.claimed = true;
      relayPty(socket, s.stream);
    },
  });

  /**
   * kiln's own byte streams into the workspace, for `kiln ssh` and `kiln port-forward` (Coder carries these over
   * tailnet): `/ssh` is an SSH connection to the agent's SSH server, `/tcp?port=` a TCP connection to the workspace's
   * loopback. Binary WebSocket messages carry the bytes both ways.
   */
  const byteStream = (suffix: string, what: string, spec: (q: Record<string, unknown>) => Record<string, unknown> & { kind: string }) =>
    app.route<{ Params: { workspaceagent: string }; Querystring: Record<string, string> }>({
      method: 'GET',
      url: `/api/v2/workspaceagents/:workspaceagent/${suffix}`,
      onRequest: auth,
      schema: { tags, params: uuidParams('workspaceagent'), response: errorResponses },
      preHandler: async (req) => {
        const s = spec((req.query ?? {}) as Record<string, unknown>);
        if (!req.headers.upgrade) throw errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade.');
        const { agent } = await resolveShellTarget(ctx, subjectOf(req), req.params.workspaceagent, what);
        const stream = await openAgentStream(ctx, agent.id, s);
        req.raw.socket.once('close', () => {
          if (!req.shellStream?.claimed) stream.destroy();
        });
        req.shellStream = { stream, claimed: false };
      },
      handler: async () => {
        throw errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade.');
      },
      wsHandler: (socket: WebSocket, req: FastifyRequest) => {
        const s = req.shellStream;
        if (!s) return socket.close(1011);
        s.claimed = true;
        relayBytes(socket, s.stream);
      },
    });

  byteStream('ssh', 'SSH session', () => ({ kind: 'ssh' }));
  byteStream('tcp', 'port forward', (q) => {
    const raw = q.port;
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
      throw errors.badRequest('Query param "port" must be a TCP port (1-65535).', undefined, [{ field: 'port', detail: 'Must be an integer from 1 to 65535' }]);
    }
    return { kind: 'tcp', port: Number(raw) };
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    shellStream?: { stream: Duplex; claimed: boolean };
  }
}
