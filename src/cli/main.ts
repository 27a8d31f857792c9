import { UsageError } from './flags.js';
import { kilnVersion } from './version.js';

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

/** Commands load lazily, so `kiln --version` and `kiln --help` never pay for the server's modules. */
const COMMANDS: Record<string, CommandEntry> = {
  server: { summary: 'Run the kiln server (API, dashboard, built-in provisioner daemons)', load: () => import('./commands/server.js') },
};

export function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'kiln — a control plane for development workspaces, speaking Coder\'s v2 API.',
    '',
    'Usage: kiln <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    '',
    'Flags:',
    '  -h, --help     Show help (also: kiln <command> --help)',
    '  -v, --version  Print the version',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    console.log(`kiln ${kilnVersion()}`);
    return 0;
  }
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return cmd ? 0 : 2;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    console.error(`kiln: unknown command "${cmd}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await entry.load()).run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`kiln ${cmd}: ${e.message} (see kiln ${cmd} --help)`);
      return 2;
    }
    console.error(`kiln ${cmd}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
