/**
 * Entry point of the standalone agent (`/bin/kiln-agent.js`): one file, bundled at build time, that any machine with
 * Node 20 runs without a kiln checkout. The init script of a `coder_agent` downloads it and runs it with
 * CODER_AGENT_URL and CODER_AGENT_TOKEN, as Coder's init script runs its agent binary.
 */
import { createLogger, type LogLevel } from '../lib/logger.js';

import { agentEnv, runAgentUntilSignal } from './process.js';

/** Replaced with package.json's version by the bundler (scripts/build-agent.mjs). */
declare const KILN_AGENT_VERSION: string | undefined;

async function main(): Promise<number> {
  const { url, token, auth } = agentEnv(process.env);
  if (auth && auth !== 'token') {
    process.stderr.write(`kiln-agent: CODER_AGENT_AUTH="${auth}" is not supported; kiln agents authenticate with a token\n`);
    return 2;
  }
  if (!url || !token) {
    process.stderr.write('kiln-agent: CODER_AGENT_URL (or KILN_AGENT_URL) and CODER_AGENT_TOKEN (or KILN_AGENT_TOKEN) must be set\n');
    return 2;
  }
  const logger = createLogger((process.env.KILN_AGENT_LOG_LEVEL as LogLevel | undefined) ?? 'info', process.stderr);
  const version = typeof KILN_AGENT_VERSION === 'string' ? KILN_AGENT_VERSION : '0.0.0-dev';
  await runAgentUntilSignal({ url: url.replace(/\/+$/, ''), token, version, logger });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`kiln-agent: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
