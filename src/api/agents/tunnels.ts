import type { Duplex } from 'node:stream';

import type { OpenSpec } from '../../sdk/tunnel/frames.js';
import type { TunnelSession } from '../../sdk/tunnel/session.js';

export class AgentUnreachableError extends Error {
  constructor(readonly agentId: string) {
    super('The workspace agent is not connected to this server.');
    this.name = 'AgentUnreachableError';
  }
}

/**
 * The agents connected to this server process that speak the tunnel (docs/agent-protocol.md), by agent id. The
 * coordinate connection registers its session after the agent's HELLO and removes it when the connection ends; an
 * agent that never says HELLO is connected all the same but has no entry, and streams to it fail as unreachable.
 * Entries live in memory: with several replicas, only the one holding the agent's connection can open its streams.
 */
export class AgentTunnels {
  readonly #sessions = new Map<string, TunnelSession>();

  register(agentId: string, session: TunnelSession): void {
    this.#sessions.set(agentId, session);
  }

  /** Removes the entry only if it still is this session: a reconnect may already have replaced it. */
  unregister(agentId: string, session: TunnelSession): void {
    if (this.#sessions.get(agentId) === session) this.#sessions.delete(agentId);
  }

  has(agentId: string): boolean {
    return this.#sessions.has(agentId);
  }

  /** A stream to the agent: for `{kind: "tcp", port}`, a connection to 127.0.0.1:port inside the workspace. */
  async openStream(agentId: string, spec: OpenSpec): Promise<Duplex> {
    const s = this.#sessions.get(agentId);
    if (!s || s.closed) throw new AgentUnreachableError(agentId);
    return s.open(spec);
  }
}
