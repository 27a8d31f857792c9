import type { WorkspaceTransition } from '../sdk/types/workspaceBuilds.js';

import { runBuild } from './buildWatch.js';
import type { CommandSpec } from './command.js';
import { parseCommand } from './command.js';
import { println, type CliIO } from './io.js';
import { findWorkspace } from './lookup.js';
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
  if (ws.latest_build.status === DONE[transition]) {
    println(io.stdout, `Workspace "${ref}" is already ${DONE[transition]}.`);
    return 0;
  }
  const build = await runBuild(io, client, ws, { transition }, ref);
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
    last = await runBuild(io, client, ws, { transition }, ref);
    ws = await findWorkspace(client, ref);
  }
  println(io.stdout, `Workspace "${ref}" restarted: ${last?.status ?? 'running'} (build #${last?.build_number ?? '?'}).`);
  return 0;
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
    ],
    flags: [],
    args: { min: 1, max: 1 },
  };
}
