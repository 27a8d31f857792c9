import type { KilnClient } from '../sdk/client.js';
import type { CreateWorkspaceBuildRequest, WorkspaceTransition } from '../sdk/types/workspaceBuilds.js';
import type { Workspace } from '../sdk/types/workspaces.js';

import { runBuild } from './buildWatch.js';
import type { CommandSpec } from './command.js';
import { listFlag, parseCommand, stringFlag } from './command.js';
import { println, type CliIO } from './io.js';
import { findWorkspace } from './lookup.js';
import { collectBuildParameters, parameterFlags } from './parameters.js';
import { connect } from './session.js';

const DONE: Record<'start' | 'stop', string> = { start: 'running', stop: 'stopped' };

/**
 * `kiln start` / `kiln stop`: one build of that transition, streamed live. A workspace already in the wanted state
 * is left alone (no needless build), as `coder` does.
 */
export async function runTransition(io: CliIO, argv: string[], spec: CommandSpec, transition: 'start' | 'stop'): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const ref = parsed.args[0] as string;
  const { client } = await connect(io);
  const ws = await findWorkspace(client, ref);
  const pairs = listFlag(parsed.flags, 'parameter');
  const file = stringFlag(parsed.flags, 'rich-parameter-file');
  if (ws.latest_build.status === DONE[transition] && !pairs.length && !file) {
    println(io.stdout, `Workspace "${ref}" is already ${DONE[transition]}.`);
    return 0;
  }
  const params = transition === 'start' ? await startParameters(io, client, ws, pairs, file) : {};
  const build = await runBuild(io, client, ws, { transition, ...params }, ref);
  println(io.stdout, `Workspace "${ref}" is ${build.status} (build #${build.build_number}).`);
  return 0;
}

/** Stop, wait for the stop to succeed, then start: the start never races a stop still running. */
export async function runRestart(io: CliIO, argv: string[], spec: CommandSpec): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const ref = parsed.args[0] as string;
  const { client } = await connect(io);
  let ws = await findWorkspace(client, ref);
  const steps: WorkspaceTransition[] = ws.latest_build.status === 'stopped' ? ['start'] : ['stop', 'start'];
  let last;
  for (const transition of steps) {
    // Two builds in one output: say where the second begins.
    println(io.stdout, `${transition === 'stop' ? 'Stopping' : 'Starting'} "${ref}"`);
    const params = transition === 'start' ? await startParameters(io, client, ws, listFlag(parsed.flags, 'parameter'), stringFlag(parsed.flags, 'rich-parameter-file')) : {};
    last = await runBuild(io, client, ws, { transition, ...params }, ref);
    ws = await findWorkspace(client, ref);
  }
  println(io.stdout, `Workspace "${ref}" restarted: ${last?.status ?? 'running'} (build #${last?.build_number ?? '?'}).`);
  return 0;
}

/**
 * The parameter values of a start: what was given, plus answers for required parameters the previous build had no
 * value for (a newer template version may have added some). Values not given carry over on the server.
 */
async function startParameters(io: CliIO, client: KilnClient, ws: Workspace, pairs: string[], file?: string): Promise<Partial<CreateWorkspaceBuildRequest>> {
  const previous = await client.workspaceBuildParameters(ws.latest_build.id);
  const { rich, legacy } = await collectBuildParameters(io, client, { versionId: ws.latest_build.template_version_id, pairs, file, previous });
  return { ...(rich.length ? { rich_parameter_values: rich } : {}), ...(legacy.length ? { parameter_values: legacy } : {}) };
}

export function transitionSpec(transition: 'start' | 'stop' | 'restart'): CommandSpec {
  const what = { start: 'Start a workspace', stop: 'Stop a workspace', restart: 'Restart a workspace: stop it, then start it' }[transition];
  return {
    usage: `kiln ${transition} <workspace>`,
    summary: what,
    description: [
      'The build is streamed live; the command exits non-zero when a build fails or is canceled.',
      'Ctrl-C at a terminal asks whether to cancel the build. <owner>/<name> names someone else\'s workspace.',
    ].join('\n'),
    examples: [
      { text: `${what.split(':')[0]} "dev"`, command: `kiln ${transition} dev` },
      { text: 'The same for alice\'s workspace (owners)', command: `kiln ${transition} alice/dev` },
      ...(transition === 'stop' ? [] : [{ text: 'Change a mutable parameter', command: `kiln ${transition} dev --parameter cpus=8` }]),
    ],
    flags: transition === 'stop' ? [] : parameterFlags,
    args: { min: 1, max: 1 },
  };
}
