import { dispatch, parseCommand, type CommandSpec } from '../command.js';
import type { CliIO } from '../io.js';
import { findOrganization, findTemplate } from '../lookup.js';
import { outputFlag, outputFormat, printJson, printTable, timeAgo } from '../output.js';
import { connect } from '../session.js';

export const listSpec: CommandSpec = {
  usage: 'kiln templates versions list <template> [flags]',
  summary: 'List the versions of a template, newest first',
  examples: [{ text: 'Which version of "echo" is active, and which imports failed', command: 'kiln templates versions list echo' }],
  flags: [outputFlag],
  args: { min: 1, max: 1 },
};

export function run(argv: string[], io: CliIO): Promise<number> {
  return dispatch(io, argv, 'templates versions', 'Manage the versions of a template', { list: { summary: listSpec.summary, run: list } }, { ls: 'list' });
}

async function list(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, listSpec);
  if (!parsed) return 0;
  const format = outputFormat(parsed.flags);
  const { client } = await connect(io);
  const org = await findOrganization(client);
  const template = await findTemplate(client, org.id, parsed.args[0] as string);
  const versions = (await client.templateVersions(template.id)).sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  if (format === 'json') {
    printJson(io, versions);
    return 0;
  }
  const rows = versions.map((v) => [v.name, timeAgo(v.created_at), v.created_by.username, v.job.status, v.id === template.active_version_id ? 'active' : '']);
  printTable(io, ['name', 'created', 'created by', 'status', 'active'], rows, `Template "${template.name}" has no versions.`);
  return 0;
}
