import { HttpTransport } from './http.js';
import { unixSocketFetch } from './unixFetch.js';
import type {
  PatchStartupLogsRequest,
  PostAppHealthsRequest,
  WorkspaceAgentMetadata,
} from './types/workspaceAgents.js';
import type { WorkspaceAgentLifecycle } from './types/workspaceBuilds.js';

/**
 * The few socket events the agent needs; `ws` in Node provides them. Binary messages both ways are tunnel frames
 * (src/sdk/tunnel, docs/agent-protocol.md).
 */
export interface CoordinateSocket {
  on(event: 'close', fn: (code: number) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  on(event: 'ping', fn: () => void): void;
  on(event: 'message', fn: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  send(data: Buffer): void;
  readonly readyState: number;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/**
 * The client an agent uses with its agent token (Coder's `agentsdk`): every call is under `/workspaceagents/me`.
 * Errors are `SdkError`s carrying the status, like the user client's.
 */
export interface AgentClientOptions {
  /**
   * Reach the server through this unix socket rather than the URL's host (a sandboxed workspace has no route to the
   * server's address). The URL still names the paths; its host only fills the Host header.
   */
  socketPath?: string;
}

export class AgentClient {
  readonly http: HttpTransport;
  readonly socketPath: string | undefined;

  constructor(url: string | URL, token: string, o: AgentClientOptions = {}) {
    this.socketPath = o.socketPath;
    this.http = new HttpTransport(new URL(url), token, o.socketPath ? { fetch: unixSocketFetch(o.socketPath) } : {});
  }

  metadata = (signal?: AbortSignal) => this.http.json<WorkspaceAgentMetadata>('GET', '/api/v2/workspaceagents/me/metadata', { signal });
  reportLifecycle = (state: WorkspaceAgentLifecycle) =>
    this.http.fetch('POST', '/api/v2/workspaceagents/me/report-lifecycle', { body: { state } }).then(() => undefined);
  patchStartupLogs = (req: PatchStartupLogsRequest) => this.http.fetch('PATCH', '/api/v2/workspaceagents/me/startup-logs', { body: req }).then(() => undefined);
  postAppHealth = (req: PostAppHealthsRequest) => this.http.fetch('POST', '/api/v2/workspaceagents/me/app-health', { body: req }).then(() => undefined);
  postVersion = (version: string) => this.http.fetch('POST', '/api/v2/workspaceagents/me/version', { body: { version } }).then(() => undefined);

  /**
   * Opens the connection that makes the agent `connected` (reference §9.2). Resolves once the server accepted it;
   * rejects with the HTTP status in the message when refused (401 bad token, 403 not on the latest build).
   */
  coordinate = async (): Promise<CoordinateSocket> => {
    const url = this.http.url('/api/v2/workspaceagents/me/coordinate');
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const { default: WS } = await import('ws');
    // ws ignores a `socketPath` option; a connection factory puts the upgrade request on the unix socket instead.
    const socketPath = this.socketPath;
    const net = socketPath ? await import('node:net') : undefined;
    const ws = new WS(url.href, {
      headers: { 'Coder-Session-Token': this.http.token ?? '' },
      ...(socketPath && net ? { createConnection: () => net.connect(socketPath) } : {}),
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject);
        resolve(ws);
      });
      ws.once('unexpected-response', (_req, res) => {
        ws.off('error', reject);
        // Terminating a refused socket can still emit 'error'; nobody listens to this one any more.
        ws.on('error', () => {});
        reject(new CoordinateRefused(res.statusCode ?? 0));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  };
}

export class CoordinateRefused extends Error {
  constructor(readonly status: number) {
    super(`the server refused the agent connection (HTTP ${status})`);
    this.name = 'CoordinateRefused';
  }
}
