import type { WorkspaceBuild } from '../../sdk/types/workspaceBuilds.js';
import { parseCommand, type CommandSpec } from '../command.js';
import { println, type CliIO } from '../io.js';
import { replayJob, watchJob } from '../jobStream.js';
import { findBuild, findWorkspace } from '../lookup.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln logs <workspace> [flags]',
  summary: 'Show the log of a workspace build (the latest unless --build)',
  description: 'With --follow, lines are printed as the build writes them, until it ends. Ctrl-C stops following; the build goes on.',
  examples: [
    { text: 'The log of the latest build of "dev"', command: 'kiln logs dev' },
    { text: 'Follow a build in progress', command: 'kiln logs dev -f' },
    { text: 'The log of build #3', command: 'kiln logs dev --build 3' },
  ],
  flags: [
    { name: 'build', short: 'b', type: 'number', placeholder: 'n', description: 'Build number (default: the latest)' },
    { name: 'follow', short: 'f', type: 'boolean', description: 'Keep printing lines until the build ends' },
  ],
  args: { min: 1, max: 1 },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const ref = parsed.args[0] as string;
  const { client } = await connect(io);
  const ws = await findWorkspace(client, ref);
  const build = await findBuild(client, ws, parsed.flags.build as number | undefined);
  if (parsed.flags.follow) {
    await watchJob(io, {
      job: build.job,
      follow: (after, signal) => client.followWorkspaceBuildLogs(build.id, { after, signal }),
      refresh: async () => (await client.workspaceBuild(build.id)).job,
      what: `build #${build.build_number} of "${ref}"`,
      cancelHint: `kiln cancel ${ref}`,
    });
  } else {
    replayJob(io, build.job, await client.workspaceBuildLogs(build.id));
  }
  summary(io, await client.workspaceBuild(build.id));
  return 0;
}

function summary(io: CliIO, b: WorkspaceBuild): void {
  const status = `Build #${b.build_number} (${b.transition}) ${b.job.status}`;
  println(io.stdout, b.job.error ? `${status}: ${b.job.error}` : ['pending', 'running'].includes(b.job.status) ? `${status}; follow it with --follow` : `${status}.`);
}
