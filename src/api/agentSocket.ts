import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';

import type { FastifyInstance } from 'fastify';

/** Everything the agent API serves lives under this prefix; nothing else is reachable through the socket. */
export const AGENT_API_PREFIX = '/api/v2/workspaceagents/me';

export interface AgentSocketOptions {
  /**
   * `<dir>/sock/agent.sock` is created. `<dir>` can be entered by the server's user and, when `gid` is given, by that
   * group (mode 0710: bwrap, running as a workspace's uid, must reach `sock/` to bind it); nobody else. `sock/` is
   * what a sandbox gets bound in at /run/kiln.
   */
  dir: string;
  /** The group allowed to reach and connect to the socket (the workspaces' group when the server runs as root). */
  gid?: number;
}

export interface AgentSocket {
  /** The directory to bind into a sandbox; it holds `agent.sock`. */
  bindDir: string;
  socketPath: string;
  close(): Promise<void>;
}

function isAgentPath(url: string | undefined): boolean {
  const raw = (url ?? '').split('?')[0] as string;
  let p: string;
  try {
    p = decodeURIComponent(raw);
  } catch {
    return false;
  }
  // No dot segments, encoded or not: the prefix must name the route the router will really take.
  if (/(^|\/)\.\.?(\/|$)/.test(p) || p.includes('//') || p.includes('\\')) return false;
  return raw === AGENT_API_PREFIX || raw.startsWith(AGENT_API_PREFIX + '/');
}

function notFound(method: string | undefined, url: string | undefined): string {
  return JSON.stringify({ message: 'Route not found.', detail: `This socket serves the agent API only (${AGENT_API_PREFIX}/…); ${method ?? ''} ${(url ?? '').split('?')[0]} is not part of it.` });
}

/**
 * A second listener for the app: a unix socket that serves the agent API (`/api/v2/workspaceagents/me/*`, every route
 * and WebSocket under that prefix, agent-token authenticated by the routes themselves) and answers 404 to anything
 * else. Sandboxed workspaces have no network route to the server; this socket, bound into each sandbox, is their only
 * way to it, so a workspace cannot reach the user API or the dashboard with stolen cookies or tokens.
 */
export async function listenAgentSocket(app: FastifyInstance, o: AgentSocketOptions): Promise<AgentSocket> {
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  if (o.gid !== undefined) await chown(o.dir, process.getuid?.() ?? 0, o.gid);
  await chmod(o.dir, o.gid === undefined ? 0o700 : 0o710);
  const bindDir = path.join(o.dir, 'sock');
  await mkdir(bindDir, { recursive: true, mode: 0o750 });
  const socketPath = path.join(bindDir, 'agent.sock');
  await rm(socketPath, { force: true });
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    if (isAgentPath(req.url)) {
      app.routing(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(notFound(req.method, req.url));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    if (isAgentPath(req.url)) {
      // @fastify/websocket routes upgrades it sees on the app's server; hand it this one.
      app.server.emit('upgrade', req, socket, head);
      return;
    }
    const body = notFound(req.method, req.url);
    socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (o.gid !== undefined) {
    await chown(bindDir, process.getuid?.() ?? 0, o.gid);
    await chown(socketPath, process.getuid?.() ?? 0, o.gid);
  }
  await chmod(bindDir, 0o750);
  await chmod(socketPath, 0o660);
  let closing: Promise<void> | undefined;
  return {
    bindDir,
    socketPath,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }).then(() => rm(socketPath, { force: true }))),
  };
}
