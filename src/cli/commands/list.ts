import { parseCommand, stringFlag, type CommandSpec } from '../command.js';
import type { CliIO } from '../io.js';
import { outputFlag, outputFormat, printJson, printTable, timeAgo } from '../output.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln list [flags]',
  summary: 'List workspaces (yours, unless --all)',
  examples: [
    { text: 'Your workspaces', command: 'kiln list' },
    { text: 'Every workspace you can see, as JSON', command: 'kiln list --all -o json' },
    { text: 'Only failed workspaces of the template "echo"', command: 'kiln list --search "owner:me template:echo status:failed"' },
  ],
  flags: [
    { name: 'all', short: 'a', type: 'boolean', description: 'List every workspace you can see, not only yours' },
    { name: 'search', type: 'string', default: 'owner:me', placeholder: 'query', description: 'Filter: owner:<user> template:<name> status:<status> name:<text>' },
    outputFlag,
  ],
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const { flags } = parsed;
  const format = outputFormat(flags);
  const { client } = await connect(io);
  const q = flags.all ? '' : (stringFlag(flags, 'search') ?? '');
  const { workspaces } = await client.workspaces(q ? { q } : {});
  if (format === 'json') {
    printJson(io, workspaces);
    return 0;
  }
  const rows = workspaces.map((w) => [w.name, w.template_name, w.latest_build.status, timeAgo(w.latest_build.created_at), w.owner_name]);
  printTable(io, ['workspace', 'template', 'status', 'last built', 'owner'], rows, 'No workspaces found. Create one with "kiln create <name> -t <template>".');
  return 0;
}
