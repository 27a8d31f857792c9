import { isUuid } from '../uuid.js';

/**
 * The `pty` stream kind (docs/agent-protocol.md): a reconnecting terminal in the workspace. The OPEN names the
 * terminal by a client-chosen UUID; the server sets the limits, so one server configuration governs every agent.
 * On the stream, agent → server is the terminal's raw output; server → agent is Coder's reconnecting-PTY requests
 * (`{data?, width?, height?}`) as JSON, one per line.
 */
export interface PtyOpenSpec {
  kind: 'pty';
  reconnect: string;
  width: number;
  height: number;
  /** Run through the user's shell (`-c`); empty: an interactive login shell. */
  command: string;
  /** A terminal with no connection for this long ends. */
  idle_timeout_ms?: number;
  /** Output kept for a reconnecting client. */
  buffer_bytes?: number;
  /** Terminals one agent keeps at once. */
  max_sessions?: number;
}

export const PTY_DEFAULTS = {
  /** Coder's reconnecting PTY timeout. */
  idleTimeoutMs: 5 * 60_000,
  /** Coder keeps 64 KiB of output for a reconnecting client. */
  bufferBytes: 64 * 1024,
  maxSessions: 16,
};

/** A request from a terminal client: keys typed, or the window's new size. */
export interface PtyRequest {
  data?: string;
  width?: number;
  height?: number;
}

const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);

/** Checks an OPEN of kind `pty`; throws with the reason the agent answers in its RESET. */
export function parsePtySpec(raw: unknown): PtyOpenSpec {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (typeof o.reconnect !== 'string' || !isUuid(o.reconnect)) throw new Error('a pty stream needs a reconnect UUID');
  const size = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : 0);
  return {
    kind: 'pty',
    reconnect: o.reconnect.toLowerCase(),
    width: size(o.width),
    height: size(o.height),
    command: typeof o.command === 'string' ? o.command : '',
    idle_timeout_ms: positive(o.idle_timeout_ms),
    buffer_bytes: positive(o.buffer_bytes),
    max_sessions: positive(o.max_sessions),
  };
}

/**
 * One client request as the line the agent reads, or undefined when the message is not a request. Unknown fields are
 * dropped, so nothing but keys and sizes reaches the agent.
 */
export function encodePtyRequest(message: string): string | undefined {
  let m: unknown;
  try {
    m = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const { data, width, height } = m as Record<string, unknown>;
  const out: PtyRequest = {};
  if (typeof data === 'string' && data) out.data = data;
  if (typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0) {
    out.width = Math.min(Math.floor(width), 65535);
    out.height = Math.min(Math.floor(height), 65535);
  }
  if (out.data === undefined && out.width === undefined) return undefined;
  return `${JSON.stringify(out)}\n`;
}
