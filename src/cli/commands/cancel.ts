import { parseCommand, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import { println, type CliIO } from '../io.js';
import { findWorkspace } from '../lookup.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln cancel <workspace>',
  summary: 'Cancel the build in progress of a workspace, and wait until it has stopped',
  description: 'A pending build is canceled at once; a running one is stopped by its provisioner. Exits 1 when the build finished before the cancel took effect.',
  examples: [{ text: 'Give up on the build of "dev"', command: 'kiln cancel dev' }],
  flags: [],
  args: { min: 1, max: 1 },
};

const ACTIVE = new Set(['pending', 'running', 'canceling']);

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const ref = parsed.args[0] as string;
  const { client } = await connect(io);
  const ws = await findWorkspace(client, ref);
  const build = ws.latest_build;
  if (!ACTIVE.has(build.job.status)) {
    throw new CliError(`workspace "${ref}" has no build in progress (build #${build.build_number} is ${build.status}).`);
  }
  if (build.job.status !== 'canceling') await client.cancelWorkspaceBuild(build.id);
  println(io.stdout, `Canceling build #${build.build_number} of "${ref}"…`);
  // The log stream ends when the job does: waiting on it needs no polling.
  const stream = client.followWorkspaceBuildLogs(build.id);
  for await (const _ of stream) {
    // Only the end matters here.
  }
  const final = await client.workspaceBuild(build.id);
  // As in Coder's December 2022 rules, a canceled running job ends "failed" with error "canceled": canceled_at tells.
  if (final.job.canceled_at) {
    println(io.stdout, `Build #${build.build_number} of "${ref}" canceled.`);
    return 0;
  }
  throw new CliError(`build #${build.build_number} of "${ref}" ended as ${final.job.status} before the cancel took effect.`, final.job.error || undefined);
}
