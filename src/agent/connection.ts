import { backoffDelay, sleep } from '../lib/backoff.js';
import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { AgentClient, CoordinateSocket } from '../sdk/agentsdk.js';

import { BACKOFF_BASE_MS, BACKOFF_MAX_MS } from './retry.js';
import { serveTunnel, type StreamHandlers } from './tunnel.js';

/**
 * Keeps the coordinate connection open: that open socket is what the server counts as "connected", and it carries
 * the tunnel the server opens streams over (src/agent/tunnel.ts). When it drops (server restart, network), it is
 * reopened with backoff, for as long as the agent runs; streams of the lost connection end with it.
 */
export class Connection {
  #socket: CoordinateSocket | undefined;
  #stopped = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(
    private readonly client: AgentClient,
    private readonly logger: Logger,
    private readonly handlers: StreamHandlers = {},
  ) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    const signal = this.#stopped.signal;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        const socket = await this.client.coordinate();
        if (signal.aborted) {
          socket.close();
          return;
        }
        this.#socket = socket;
        serveTunnel(socket, this.logger, this.handlers);
        attempt = 0;
        this.logger.info('connected to the server');
        await new Promise<void>((resolve) => {
          socket.on('close', () => resolve());
          socket.on('error', () => resolve());
        });
        this.#socket = undefined;
        if (!signal.aborted) this.logger.warn('connection to the server lost; reconnecting');
      } catch (e) {
        this.logger.debug({ err: coerceError(e).message, attempt }, 'could not connect to the server');
      }
      if (!signal.aborted) await sleep(backoffDelay(attempt++, BACKOFF_BASE_MS, BACKOFF_MAX_MS), signal);
    }
  }

  /** Closes the connection for good: the server records the agent as disconnected. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    const s = this.#socket;
    s?.close();
    // A close handshake with a server that is gone would wait for ws's 30 s timeout.
    const t = setTimeout(() => s?.terminate(), 1_000);
    await this.#loop;
    clearTimeout(t);
  }
}
