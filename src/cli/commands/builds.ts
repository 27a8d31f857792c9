import type { WorkspaceBuild } from '../../sdk/types/workspaceBuilds.js';
import { dispatch, parseCommand, type CommandSpec } from '../command.js';
import type { CliIO } from '../io.js';
import { findWorkspace } from '../lookup.js';
import { formatDuration, outputFlag, outputFormat, printJson, printTable, timeAgo } from '../output.js';
import { connect } from '../session.js';

export const listSpec: CommandSpec = {
  usage: 'kiln builds list <workspace> [flags]',
  summary: 'List the builds of a workspace, newest first',
  examples: [
    { text: 'The build history of "dev"', command: 'kiln builds list dev' },
    { text: 'Why did the last build fail?', command: "kiln builds list dev -o json | jq -r '.[0].job.error'" },
  ],
  flags: [outputFlag],
  args: { min: 1, max: 1 },
};

export function run(argv: string[], io: CliIO): Promise<number> {
  return dispatch(io, argv, 'builds', 'Inspect the builds of a workspace', { list: { summary: listSpec.summary, run: list } }, { ls: 'list' });
}

async function list(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, listSpec);
  if (!parsed) return 0;
  const format = outputFormat(parsed.flags);
  const { client } = await connect(io);
  const ws = await findWorkspace(client, parsed.args[0] as string);
  const builds = (await client.workspaceBuilds(ws.id)).sort((a, b) => b.build_number - a.build_number);
  if (format === 'json') {
    printJson(io, builds);
    return 0;
  }
  const rows = builds.map((b) => [`#${b.build_number}`, b.transition, b.status, b.initiator_name, timeAgo(b.created_at), duration(b)]);
  printTable(io, ['build', 'transition', 'status', 'initiator', 'created', 'duration'], rows, `Workspace "${ws.name}" has no builds.`);
  return 0;
}

/** From the request to the end of the job, queue time included: what the user waited. */
function duration(b: WorkspaceBuild): string {
  if (!b.job.completed_at) return '-';
  return formatDuration(Date.parse(b.job.completed_at) - Date.parse(b.job.created_at));
}
