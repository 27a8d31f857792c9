import type { KilnClient } from '../sdk/client.js';
import type { CreateWorkspaceBuildRequest, WorkspaceBuild } from '../sdk/types/workspaceBuilds.js';
import type { Workspace } from '../sdk/types/workspaces.js';

import { CliError } from './errors.js';
import type { CliIO } from './io.js';
import { watchJob } from './jobStream.js';

/** Creates a build of `ws` and streams it to the end; throws when the build does not succeed. `ref` is how the user named it. */
export async function runBuild(io: CliIO, client: KilnClient, ws: Workspace, req: CreateWorkspaceBuildRequest, ref = ws.name): Promise<WorkspaceBuild> {
  const build = await client.createWorkspaceBuild(ws.id, req);
  return watchBuild(io, client, build, ref);
}

/**
 * Streams a build live (see watchJob). Ctrl-C at a terminal asks whether to cancel it. A failed or canceled build
 * becomes a CliError carrying the job's error, so the command exits 1 with the reason.
 */
export async function watchBuild(io: CliIO, client: KilnClient, build: WorkspaceBuild, workspaceName: string): Promise<WorkspaceBuild> {
  const what = `build #${build.build_number} of "${workspaceName}"`;
  await watchJob(io, {
    job: build.job,
    follow: (after, signal) => client.followWorkspaceBuildLogs(build.id, { after, signal }),
    refresh: async () => (await client.workspaceBuild(build.id)).job,
    cancel: async () => {
      await client.cancelWorkspaceBuild(build.id);
    },
    what,
    cancelHint: `kiln cancel ${workspaceName}`,
  });
  const final = await client.workspaceBuild(build.id);
  // A running job that was canceled ends "failed" (error "canceled"); canceled_at is what tells.
  if (final.job.canceled_at) throw new CliError(`${what} was canceled.`, final.job.error || undefined);
  if (final.job.status !== 'succeeded') throw new CliError(`${what} failed.`, final.job.error || undefined);
  return final;
}
