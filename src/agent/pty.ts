import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import { Duplex } from 'node:stream';

import type * as NodePty from '@lydell/node-pty';
import type { IPty } from '@lydell/node-pty';

import type { Logger } from '../lib/logger.js';
import { parsePtySpec, PTY_DEFAULTS, type PtyOpenSpec } from '../sdk/tunnel/pty.js';

/** Where a new terminal starts and with what environment (the workspace's directory and variables). */
export interface PtyEnvironment {
  cwd(): string;
  env(): NodeJS.ProcessEnv;
}

type PtyModule = typeof NodePty;
let ptyModule: Promise<PtyModule> | undefined;

/**
 * node-pty is a native module: the kiln checkout has it, the bundled standalone agent may not. It is loaded on the
 * first terminal, so an agent without it still serves everything else and refuses terminals with a reason.
 */
export function loadPty(): Promise<PtyModule> {
  ptyModule ??= import('@lydell/node-pty').then(
    (m) => ((m as { default?: PtyModule }).default ?? m) as PtyModule,
    (e: unknown) => {
      ptyModule = undefined;
      throw new Error(`this agent cannot open terminals: node-pty is not available (${(e as Error).message})`);
    },
  );
  return ptyModule;
}

/** The shell a terminal runs: the user's login shell when it is a real one, else bash, else sh. */
export function userShell(env: NodeJS.ProcessEnv): string {
  const candidates = [env.SHELL, safeUserShell(), '/bin/bash', '/bin/sh'];
  for (const c of candidates) {
    if (!c || /(nologin|false)$/.test(c)) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // Not here (e.g. the host's passwd names a shell the sandbox lacks).
    }
  }
  return '/bin/sh';
}

function safeUserShell(): string | undefined {
  try {
    return os.userInfo().shell ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * One terminal: a process on a PTY that outlives the connections to it. It keeps the last `bufferBytes` of output, so
 * a client that reconnects with the same id sees what it missed (Coder's reconnecting PTY); it ends when its process
 * exits, or after `idleTimeoutMs` with no client attached.
 */
class PtySession {
  readonly #clients = new Set<Duplex>();
  readonly #buffer: Buffer[] = [];
  #buffered = 0;
  #idle: NodeJS.Timeout | undefined;
  #exited = false;

  constructor(
    readonly id: string,
    private readonly pty: IPty,
    private readonly limits: { idleTimeoutMs: number; bufferBytes: number },
    private readonly onEnd: () => void,
  ) {
    pty.onData((d) => this.#output(Buffer.from(d, 'utf8')));
    pty.onExit(() => {
      this.#exited = true;
      clearTimeout(this.#idle);
      for (const c of this.#clients) c.push(null);
      this.#clients.clear();
      this.onEnd();
    });
    this.#armIdle();
  }

  #output(chunk: Buffer): void {
    this.#buffer.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered > this.limits.bufferBytes && this.#buffer.length > 0) {
      const first = this.#buffer[0] as Buffer;
      const excess = this.#buffered - this.limits.bufferBytes;
      if (first.length <= excess) {
        this.#buffer.shift();
        this.#buffered -= first.length;
      } else {
        this.#buffer[0] = first.subarray(excess);
        this.#buffered -= excess;
      }
    }
    let full = false;
    for (const c of this.#clients) if (!c.push(chunk)) full = true;
    // A client that cannot keep up holds the process back (as a slow terminal would), not the agent's memory.
    if (full) this.pty.pause();
  }

  #armIdle(): void {
    clearTimeout(this.#idle);
    if (this.#clients.size > 0 || this.#exited) return;
    this.#idle = setTimeout(() => this.kill(), this.limits.idleTimeoutMs);
    this.#idle.unref();
  }

  /** A new connection to this terminal: it first receives the recent output, then everything new. */
  attach(): Duplex {
    let pending = '';
    const input = (line: string) => {
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof msg !== 'object' || msg === null) return;
      const { data, width, height } = msg as { data?: unknown; width?: unknown; height?: unknown };
      if (typeof data === 'string' && data && !this.#exited) this.pty.write(data);
      if (typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0 && !this.#exited) {
        this.pty.resize(Math.min(Math.floor(width), 65535), Math.min(Math.floor(height), 65535));
      }
    };
    const client: Duplex = new Duplex({
      read: () => this.pty.resume(),
      write: (chunk: Buffer, _enc, cb) => {
        pending += chunk.toString('utf8');
        let i: number;
        while ((i = pending.indexOf('\n')) >= 0) {
          input(pending.slice(0, i));
          pending = pending.slice(i + 1);
        }
        // One frame is small; a peer that never sends a newline must not grow this without bound.
        if (pending.length > 1024 * 1024) pending = '';
        cb();
      },
      final: (cb) => {
        client.push(null);
        cb();
      },
    });
    client.on('close', () => {
      this.#clients.delete(client);
      this.#armIdle();
    });
    if (this.#exited) {
      client.push(null);
      return client;
    }
    if (this.#buffered > 0) client.push(Buffer.concat(this.#buffer));
    this.#clients.add(client);
    clearTimeout(this.#idle);
    return client;
  }

  kill(): void {
    if (this.#exited) return;
    try {
      this.pty.kill('SIGHUP');
    } catch {
      // Already gone.
    }
  }
}

/**
 * The agent's terminals, by reconnect id. An OPEN of kind `pty` (docs/agent-protocol.md) attaches to the terminal of
 * that id, or starts one (the user's shell, or `command` through it) in the workspace's directory with its
 * environment, as the agent's own user: inside a sandbox, the workspace's user.
 */
export class PtySessions {
  readonly #sessions = new Map<string, PtySession>();

  constructor(
    private readonly environment: PtyEnvironment,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  async open(raw: unknown): Promise<Duplex> {
    const spec: PtyOpenSpec = parsePtySpec(raw);
    const existing = this.#sessions.get(spec.reconnect);
    if (existing) {
      const c = existing.attach();
      return c;
    }
    const max = spec.max_sessions ?? PTY_DEFAULTS.maxSessions;
    if (this.#sessions.size >= max) throw new Error(`too many terminals: this workspace has ${max} open; close one first`);
    const pty = await loadPty();
    // Another OPEN with the same id may have created it while the module loaded.
    const raced = this.#sessions.get(spec.reconnect);
    if (raced) return raced.attach();
    const env: NodeJS.ProcessEnv = { ...this.environment.env(), TERM: 'xterm-256color' };
    const shell = userShell(env);
    const args = spec.command ? ['-c', spec.command] : ['-l'];
    const proc = pty.spawn(shell, args, {
      name: 'xterm-256color',
      cols: spec.width || 80,
      rows: spec.height || 24,
      cwd: this.environment.cwd(),
      env: env as Record<string, string>,
    });
    this.logger.info({ id: spec.reconnect, pid: proc.pid, command: spec.command || shell }, 'terminal started');
    const session = new PtySession(
      spec.reconnect,
      proc,
      { idleTimeoutMs: spec.idle_timeout_ms ?? PTY_DEFAULTS.idleTimeoutMs, bufferBytes: spec.buffer_bytes ?? PTY_DEFAULTS.bufferBytes },
      () => {
        this.#sessions.delete(spec.reconnect);
        this.logger.info({ id: spec.reconnect }, 'terminal ended');
      },
    );
    this.#sessions.set(spec.reconnect, session);
    return session.attach();
  }

  /** Ends every terminal (the agent is shutting down). */
  closeAll(): void {
    for (const s of this.#sessions.values()) s.kill();
  }
}
