import { agentEnv, runAgentUntilSignal } from '../../agent/process.js';
import { createLogger, type LogLevel } from '../../lib/logger.js';
import { parseCommand, type CommandSpec } from '../command.js';
import { UsageError } from '../flags.js';
import type { CliIO } from '../io.js';
import { kilnVersion } from '../../lib/version.js';

export const spec: CommandSpec = {
  usage: 'kiln agent',
  summary: 'Run the workspace agent (started by a provisioner inside a workspace)',
  description: [
    'Connects to the server with the agent token, runs the startup script, streams its output as startup logs, reports',
    'lifecycle and app health. SIGTERM runs the shutdown script, reports "off" and exits.',
    'Reads KILN_AGENT_URL (the server) and KILN_AGENT_TOKEN (the agent token); logs JSON lines to stderr',
    '(KILN_AGENT_LOG_LEVEL, default info). With --agent-socket (KILN_AGENT_SOCKET) every request goes through that unix',
    'socket instead of the URL\'s host: a sandboxed workspace reaches the server only that way.',
  ].join('\n'),
  examples: [{ text: 'Run an agent by hand', command: 'KILN_AGENT_URL=http://127.0.0.1:3000 KILN_AGENT_TOKEN=<uuid> kiln agent' }],
  flags: [{ name: 'agent-socket', type: 'string', env: true, placeholder: 'path', description: 'Reach the server through this unix socket (the URL then only names paths)' }],
  args: { min: 0, max: 0 },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const socketPath = parsed.flags['agent-socket'] ? String(parsed.flags['agent-socket']) : undefined;
  const { url, token } = agentEnv(process.env);
  if (!url) throw new UsageError('KILN_AGENT_URL (or CODER_AGENT_URL) must name the server (e.g. http://127.0.0.1:3000)');
  if (!token) throw new UsageError('KILN_AGENT_TOKEN (or CODER_AGENT_TOKEN) must hold the agent token');
  const logger = createLogger((process.env.KILN_AGENT_LOG_LEVEL as LogLevel | undefined) ?? 'info', process.stderr);
  await runAgentUntilSignal({ url, token, socketPath, version: kilnVersion(), logger });
  return 0;
}
