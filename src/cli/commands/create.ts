import { watchBuild } from '../buildWatch.js';
import { listFlag, parseCommand, stringFlag, type CommandSpec } from '../command.js';
import { UsageError } from '../flags.js';
import { println, type CliIO } from '../io.js';
import { findOrganization, findTemplate, parseWorkspaceRef } from '../lookup.js';
import { collectBuildParameters, parameterFlags } from '../parameters.js';
import { warnIfNoProvisioner } from '../noProvisioner.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln create <name> -t <template> [flags]',
  summary: 'Create a workspace from a template and watch its first build',
  description: [
    'The first build (a start) is streamed live; the command exits non-zero when it fails or is canceled.',
    'Ctrl-C at a terminal asks whether to cancel the build. <owner>/<name> creates a workspace for someone else',
    '(owners only). --parameter sets the template\'s parameters (kiln show lists those in use); at a terminal,',
    'required parameters without a value are asked for. Names the template does not declare are passed as legacy',
    'parameters (environment variables of the build).',
  ].join('\n'),
  examples: [
    { text: 'Create "dev" from the template "echo"', command: 'kiln create dev -t echo' },
    { text: 'Pass parameters to the build', command: 'kiln create dev -t echo --parameter region=eu --parameter size=large' },
    { text: 'Parameter values from a file (name: value per line)', command: 'kiln create dev -t echo --rich-parameter-file params.yaml' },
    { text: 'Create a workspace for alice', command: 'kiln create alice/dev -t echo' },
  ],
  flags: [
    { name: 'template', short: 't', type: 'string', env: true, placeholder: 'name', description: 'The template to build from' },
    ...parameterFlags,
  ],
  args: { min: 1, max: 1 },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const ref = parsed.args[0] as string;
  const { owner, name } = parseWorkspaceRef(ref);
  const templateName = stringFlag(parsed.flags, 'template');
  if (!templateName) throw new UsageError('which template? pass -t <template> (kiln templates list shows them)');
  const { client } = await connect(io);
  const org = await findOrganization(client);
  const template = await findTemplate(client, org.id, templateName);
  const { rich, legacy } = await collectBuildParameters(io, client, {
    versionId: template.active_version_id,
    pairs: listFlag(parsed.flags, 'parameter'),
    file: stringFlag(parsed.flags, 'rich-parameter-file'),
  });
  const ws = await client.createWorkspace(org.id, owner, {
    template_id: template.id,
    name,
    parameter_values: legacy.length ? legacy : undefined,
    rich_parameter_values: rich.length ? rich : undefined,
  });
  warnIfNoProvisioner(io.stderr, template.provisioner, ws.latest_build.matched_provisioners, `the build of "${ref}"`);
  const build = await watchBuild(io, client, ws.latest_build, ref);
  println(io.stdout, `Workspace "${ref}" is ${build.status} (build #${build.build_number}, template ${template.name}).`);
  return 0;
}
