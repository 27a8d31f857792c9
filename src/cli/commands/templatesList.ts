import { parseCommand, type CommandSpec } from '../command.js';
import type { CliIO } from '../io.js';
import { findOrganization } from '../lookup.js';
import { outputFlag, outputFormat, plural, printJson, printTable, timeAgo } from '../output.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln templates list [flags]',
  summary: 'List the templates of your organization',
  examples: [
    { text: 'Show the templates', command: 'kiln templates list' },
    { text: 'The active version id of each, for a script', command: "kiln templates list -o json | jq -r '.[].active_version_id'" },
  ],
  flags: [outputFlag],
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const format = outputFormat(parsed.flags);
  const { client } = await connect(io);
  const org = await findOrganization(client);
  const templates = (await client.templates(org.id)).sort((a, b) => a.name.localeCompare(b.name));
  if (format === 'json') {
    printJson(io, templates);
    return 0;
  }
  // A template carries only its active version's id; the name is what people recognise.
  const versions = await Promise.all(templates.map((t) => client.templateVersion(t.active_version_id).then((v) => v.name, () => t.active_version_id)));
  const rows = templates.map((t, i) => [t.name, t.provisioner, versions[i] ?? '', plural(t.workspace_owner_count, 'developer'), timeAgo(t.updated_at)]);
  printTable(io, ['name', 'provisioner', 'active version', 'used by', 'last updated'], rows, 'No templates yet: create one with "kiln templates init" and "kiln templates push".');
  return 0;
}
