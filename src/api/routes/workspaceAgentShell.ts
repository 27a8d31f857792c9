import type { Duplex } from 'node:stream';

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

import type { OpenSpec } from '../../sdk/tunnel/frames.js';
import type { PtyOpenSpec } from '../../sdk/tunnel/pty.js';
import type { ServerContext } from '../context.js';
import { errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { errorResponses, uuidParams } from '../schemas/common.js';
import { openAgentStream, resolveShellTarget } from '../shell/access.js';
import { relayPty } from '../shell/pty.js';
import { relayBytes } from '../shell/relay.js';
import { isUuid } from '../../sdk/uuid.js';

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
  const notUpgrade = () => errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade.');

  /**
   * One WebSocket route into the workspace: the query is checked (`spec` throws a 400), then who may connect, then the
   * agent's stream is opened; only then is the WebSocket accepted and `relay` joins the two.
   */
  const streamRoute = (suffix: string, what: string, spec: (q: Record<string, unknown>) => OpenSpec | PtyOpenSpec, relay: (socket: WebSocket, stream: Duplex) => void) =>
    app.route<{ Params: { workspaceagent: string }; Querystring: Record<string, string> }>({
      method: 'GET',
      url: `/api/v2/workspaceagents/:workspaceagent/${suffix}`,
      onRequest: auth,
      schema: { tags, params: uuidParams('workspaceagent'), response: errorResponses },
      preHandler: async (req) => {
        const s = spec((req.query ?? {}) as Record<string, unknown>);
        if (!req.headers.upgrade) throw notUpgrade();
        const { agent } = await resolveShellTarget(ctx, subjectOf(req), req.params.workspaceagent, what);
        // A PtyOpenSpec is an OpenSpec of kind 'pty'; its interface only lacks the index signature.
        const stream = await openAgentStream(ctx, agent.id, s as OpenSpec);
        // Until the WebSocket takes it over, the stream is the request's: a handshake that fails must not leak it.
        req.raw.socket.once('close', () => {
          if (!req.shellStream?.claimed) stream.destroy();
        });
        req.shellStream = { stream, claimed: false };
      },
      handler: async () => {
        throw notUpgrade();
      },
      wsHandler: (socket: WebSocket, req: FastifyRequest) => {
        const s = req.shellStream;
        if (!s) return socket.close(1011);
        s.claimed = true;
        relay(socket, s.stream);
      },
    });

  // Coder's reconnecting PTY.
  streamRoute(
    'pty',
    'terminal',
    (q): PtyOpenSpec => {
      const reconnect = typeof q.reconnect === 'string' ? q.reconnect : '';
      if (!isUuid(reconnect)) {
        throw errors.badRequest('Query param "reconnect" must be a valid UUID.', `invalid UUID: "${reconnect}"`, [{ field: 'reconnect', detail: 'Must be a UUID' }]);
      }
      const l = ctx.options.ptyLimits;
      return {
        kind: 'pty',
        reconnect,
        width: sizeParam(q, 'width'),
        height: sizeParam(q, 'height'),
        command: typeof q.command === 'string' ? q.command : '',
        idle_timeout_ms: l.idleTimeoutMs,
        buffer_bytes: l.bufferBytes,
        max_sessions: l.maxSessions,
      };
    },
    relayPty,
  );

  /*
   * kiln's own byte streams into the workspace, for `kiln ssh` and `kiln port-forward` (Coder carries these over
   * tailnet): `/ssh` is an SSH connection to the agent's SSH server, `/tcp?port=` a TCP connection to the workspace's
   * loopback. Binary WebSocket messages carry the bytes both ways.
   */
  streamRoute('ssh', 'SSH session', () => ({ kind: 'ssh' }), relayBytes);
  streamRoute(
    'tcp',
    'port forward',
    (q) => {
      const raw = q.port;
      if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
        throw errors.badRequest('Query param "port" must be a TCP port (1-65535).', undefined, [{ field: 'port', detail: 'Must be an integer from 1 to 65535' }]);
      }
      return { kind: 'tcp', port: Number(raw) };
    },
    relayBytes,
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    shellStream?: { stream: Duplex; claimed: boolean };
  }
}
