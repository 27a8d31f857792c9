import { runBuild } from '../buildWatch.js';
import { parseCommand, type CommandSpec } from '../command.js';
import { canPrompt, println, type CliIO } from '../io.js';
import { findWorkspace } from '../lookup.js';
import { confirm } from '../prompt.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln delete <workspace> [flags]',
  summary: 'Delete a workspace and the resources its template made',
  description: [
    'Runs a delete build, streamed live. At a terminal you are asked to confirm (skip with --yes).',
    '--orphan deletes the workspace without running the template\'s delete: its resources are left in place, which',
    'frees a workspace whose template cannot tear it down any more (template managers only).',
  ].join('\n'),
  examples: [
    { text: 'Delete "dev"', command: 'kiln delete dev --yes' },
    { text: 'Forget a broken workspace, leaving its resources alone', command: 'kiln delete dev --orphan --yes' },
  ],
  flags: [
    { name: 'orphan', type: 'boolean', description: 'Delete the workspace without deleting its resources' },
    { name: 'yes', short: 'y', type: 'boolean', description: 'Do not ask for confirmation' },
  ],
  args: { min: 1, max: 1 },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const ref = parsed.args[0] as string;
  const orphan = parsed.flags.orphan === true;
  const { client } = await connect(io);
  const ws = await findWorkspace(client, ref);
  if (!parsed.flags.yes && canPrompt(io)) {
    const ok = await confirm(io, `Delete workspace "${ref}"${orphan ? ' and leave its resources in place' : ''}?`);
    if (!ok) {
      println(io.stderr, 'Nothing deleted.');
      return 1;
    }
  }
  const build = await runBuild(io, client, ws, { transition: 'delete', orphan: orphan || undefined }, ref);
  println(io.stdout, `Workspace "${ref}" deleted (build #${build.build_number}${orphan ? ', resources left in place' : ''}).`);
  return 0;
}
