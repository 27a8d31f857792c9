import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { runBuild } from '../buildWatch.js';
import { dispatch, parseCommand, type CommandSpec } from '../command.js';
import { println, type CliIO } from '../io.js';
import { findBuild, findWorkspace } from '../lookup.js';
import { formatBytes } from '../output.js';
import { connect } from '../session.js';

const buildFlag = { name: 'build', short: 'b', type: 'number' as const, placeholder: 'n', description: 'Build number (default: the latest)' };

export const pullSpec: CommandSpec = {
  usage: 'kiln state pull <workspace> [<file>] [flags]',
  summary: 'Download the provisioner state of a build, byte for byte',
  description: 'Writes to <file>, or to standard output when it is absent or "-".',
  examples: [
    { text: 'Save the state of "dev"', command: 'kiln state pull dev state.bin' },
    { text: 'Look at the state of build #2', command: 'kiln state pull dev --build 2 | less' },
  ],
  flags: [buildFlag],
  args: { min: 1, max: 2 },
};

export const pushSpec: CommandSpec = {
  usage: 'kiln state push <workspace> <file> [flags]',
  summary: 'Replace the provisioner state by running a new build with it',
  description: [
    'Creates a build of the same transition and template version as the latest build (or --build), starting from the',
    'state in <file> ("-" reads standard input), and streams it live. Template managers only.',
  ].join('\n'),
  examples: [{ text: 'Repair the state of "dev"', command: 'kiln state pull dev state.bin && $EDITOR state.bin && kiln state push dev state.bin' }],
  flags: [buildFlag],
  args: { min: 2, max: 2 },
};

export function run(argv: string[], io: CliIO): Promise<number> {
  return dispatch(io, argv, 'state', 'Read and repair the provisioner state of a workspace', {
    pull: { summary: pullSpec.summary, run: pull },
    push: { summary: pushSpec.summary, run: push },
  });
}

async function pull(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, pullSpec);
  if (!parsed) return 0;
  const [ref, file] = parsed.args as [string, string | undefined];
  const { client } = await connect(io);
  const ws = await findWorkspace(client, ref);
  const build = await findBuild(client, ws, parsed.flags.build as number | undefined);
  const state = await client.workspaceBuildState(build.id);
  if (file && file !== '-') {
    await writeFile(path.resolve(io.cwd, file), state);
    println(io.stderr, `Wrote the state of build #${build.build_number} (${formatBytes(state.length)}) to ${file}.`);
  } else {
    io.stdout.write(state);
  }
  return 0;
}

async function push(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, pushSpec);
  if (!parsed) return 0;
  const [ref, file] = parsed.args as [string, string];
  const state = file === '-' ? await readAll(io.stdin) : await readFile(path.resolve(io.cwd, file));
  const { client } = await connect(io);
  const ws = await findWorkspace(client, ref);
  const target = await findBuild(client, ws, parsed.flags.build as number | undefined);
  const build = await runBuild(
    io,
    client,
    ws,
    { transition: target.transition, template_version_id: target.template_version_id, state: Buffer.from(state).toString('base64') },
    ref,
  );
  println(io.stdout, `State pushed (${formatBytes(state.length)}): build #${build.build_number} (${build.transition}) of "${ref}" succeeded.`);
  return 0;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks);
}
