import net from 'node:net';
import type { Duplex } from 'node:stream';

import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { CoordinateSocket } from '../sdk/agentsdk.js';
import type { OpenSpec } from '../sdk/tunnel/frames.js';
import { TunnelSession } from '../sdk/tunnel/session.js';

const WS_OPEN = 1;

/** Openers of stream kinds other than `tcp`, by kind. */
export type StreamHandlers = Partial<Record<string, (spec: OpenSpec) => Promise<Duplex>>>;

/**
 * The agent's end of the tunnel on one coordinate connection: says HELLO, then serves the server's OPENs. A `tcp`
 * stream is a connection to 127.0.0.1:<port> — the agent runs in the workspace's network, so that loopback is the
 * workspace's own; other kinds (`pty`) go to `handlers`. Kinds the agent does not know are refused.
 */
export function serveTunnel(socket: CoordinateSocket, logger: Logger, handlers: StreamHandlers = {}): TunnelSession {
  const session = new TunnelSession({
    role: 'agent',
    send: (frame) => {
      if (socket.readyState === WS_OPEN) socket.send(frame);
    },
    onOpen: (spec) => {
      const h = spec.kind === 'tcp' ? undefined : handlers[spec.kind];
      return h ? h(spec) : openLocal(spec);
    },
  });
  socket.on('message', (data, isBinary) => {
    if (!isBinary) return;
    try {
      session.receive(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
    } catch (e) {
      logger.warn({ err: coerceError(e).message }, 'the server broke the tunnel framing; reconnecting');
      socket.close(1002, 'tunnel protocol error');
    }
  });
  socket.on('close', () => session.close());
  session.hello();
  return session;
}

function openLocal(spec: OpenSpec): Promise<Duplex> {
  if (spec.kind !== 'tcp') return Promise.reject(new Error(`unsupported stream kind "${spec.kind}"`));
  const port = spec.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return Promise.reject(new Error('invalid port'));
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const failed = (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'ECONNREFUSED' ? `nothing listens on port ${port} in the workspace` : e.message));
    s.once('error', failed);
    s.once('connect', () => {
      s.off('error', failed);
      resolve(s);
    });
  });
}
