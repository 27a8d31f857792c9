import type { CreateParameterRequest } from '../../sdk/types/workspaceBuilds.js';
import { watchBuild } from '../buildWatch.js';
import { listFlag, parseCommand, stringFlag, type CommandSpec } from '../command.js';
import { UsageError } from '../flags.js';
import { println, type CliIO } from '../io.js';
import { findOrganization, findTemplate, parseWorkspaceRef } from '../lookup.js';
import { warnIfNoProvisioner } from '../noProvisioner.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln create <name> -t <template> [flags]',
  summary: 'Create a workspace from a template and watch its first build',
  description: [
    'The first build (a start) is streamed live; the command exits non-zero when it fails or is canceled.',
    'Ctrl-C at a terminal asks whether to cancel the build. <owner>/<name> creates a workspace for someone else',
    '(owners only). Parameters reach the build as environment variables.',
  ].join('\n'),
  examples: [
    { text: 'Create "dev" from the template "echo"', command: 'kiln create dev -t echo' },
    { text: 'Pass parameters to the build', command: 'kiln create dev -t echo --parameter region=eu --parameter size=large' },
    { text: 'Create a workspace for alice', command: 'kiln create alice/dev -t echo' },
  ],
  flags: [
    { name: 'template', short: 't', type: 'string', env: true, placeholder: 'name', description: 'The template to build from' },
    { name: 'parameter', type: 'list', placeholder: 'name=value', description: 'A parameter value; repeat for several' },
  ],
  args: { min: 1, max: 1 },
};

/** `name=value` pairs as legacy parameter values (Coder's v0.13 shape), delivered as environment variables. */
export function parseParameters(pairs: string[]): CreateParameterRequest[] {
  return pairs.map((p) => {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--parameter needs name=value, got "${p}"`);
    return { name: p.slice(0, i), source_value: p.slice(i + 1), source_scheme: 'data', destination_scheme: 'environment_variable' };
  });
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const ref = parsed.args[0] as string;
  const { owner, name } = parseWorkspaceRef(ref);
  const templateName = stringFlag(parsed.flags, 'template');
  if (!templateName) throw new UsageError('which template? pass -t <template> (kiln templates list shows them)');
  const parameters = parseParameters(listFlag(parsed.flags, 'parameter'));
  const { client } = await connect(io);
  const org = await findOrganization(client);
  const template = await findTemplate(client, org.id, templateName);
  const ws = await client.createWorkspace(org.id, owner, { template_id: template.id, name, parameter_values: parameters.length ? parameters : undefined });
  warnIfNoProvisioner(io.stderr, template.provisioner, ws.latest_build.matched_provisioners, `the build of "${ref}"`);
  const build = await watchBuild(io, client, ws.latest_build, ref);
  println(io.stdout, `Workspace "${ref}" is ${build.status} (build #${build.build_number}, template ${template.name}).`);
  return 0;
}
