import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

import { Agent } from './agent.js';

/** Where an agent process finds its server and token: kiln's names first, then the ones Coder's init script sets. */
export function agentEnv(env: NodeJS.ProcessEnv): { url?: string; token?: string; auth?: string } {
  return {
    url: env.KILN_AGENT_URL || env.CODER_AGENT_URL || undefined,
    token: env.KILN_AGENT_TOKEN || env.CODER_AGENT_TOKEN || undefined,
    auth: env.CODER_AGENT_AUTH || undefined,
  };
}

/**
 * Runs an agent until SIGTERM/SIGINT: starts it, and on the first signal runs its shutdown (shutdown script, `off`).
 * Shared by `kiln agent` and the standalone agent bundle served under /bin/.
 */
export async function runAgentUntilSignal(o: { url: string; token: string; socketPath?: string; version: string; logger: Logger }): Promise<void> {
  const agent = new Agent({ url: o.url, token: o.token, socketPath: o.socketPath, version: o.version, logger: o.logger });
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      o.logger.info({ signal: sig }, 'shutting down');
      agent.shutdown().then(resolve, (e: unknown) => {
        o.logger.error({ err: coerceError(e).message }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  void agent.start().catch((e: unknown) => o.logger.error({ err: coerceError(e).message }, 'startup failed'));
  await stopped;
}
