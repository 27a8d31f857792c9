import { getJobStageMarkers, type ProvisionerJobRow } from '../../db/queries/provisionerJobs.js';
import type { WorkspaceBuildRow } from '../../db/queries/workspaceBuilds.js';
import type { ProvisionerTiming, TimingStage, WorkspaceBuildTimings } from '../../sdk/types/workspaceBuilds.js';
import type { ServerContext } from '../context.js';
import { rfc3339 } from '../convert/time.js';

import { loadResourcesForJobs } from './render.js';

/** The daemon's stages, in Coder's vocabulary: setting up is terraform's `init`, the phase itself its `apply`. */
function stageOf(marker: string): TimingStage | undefined {
  if (marker === 'Setting up') return 'init';
  if (marker === 'Parsing template parameters') return 'plan';
  if (marker === 'Starting workspace' || marker === 'Stopping workspace' || marker === 'Destroying workspace') return 'apply';
  return undefined; // `Cleaning Up` has no Coder stage; it only ends the one before it.
}

/**
 * A build's timings, derived from what kiln stores: each provisioner stage runs from its marker line to the next
 * marker (or the job's completion); each agent's connection runs from its creation to its first connection. kiln
 * keeps no per-script run records, so `agent_script_timings` is empty.
 */
export async function buildTimings(ctx: ServerContext, build: WorkspaceBuildRow, job: ProvisionerJobRow): Promise<WorkspaceBuildTimings> {
  const markers = await getJobStageMarkers(ctx.pool, job.id);
  const provisioner_timings: ProvisionerTiming[] = [];
  markers.forEach((m, i) => {
    const stage = stageOf(m.stage);
    const end = markers[i + 1]?.created_at ?? job.completed_at;
    if (!stage || !end) return; // a stage still running has no end yet
    provisioner_timings.push({
      job_id: job.id,
      started_at: rfc3339(m.created_at),
      ended_at: rfc3339(end),
      stage,
      source: job.provisioner,
      action: build.transition,
      resource: m.stage,
    });
  });
  const resources = (await loadResourcesForJobs(ctx, ctx.pool, [job.id])).get(job.id) ?? [];
  const agent_connection_timings = resources
    .flatMap((r) => r.agents ?? [])
    .filter((a) => a.first_connected_at)
    .map((a) => ({ started_at: a.created_at, ended_at: a.first_connected_at as string, stage: 'connect' as const, workspace_agent_id: a.id, workspace_agent_name: a.name }));
  return { provisioner_timings, agent_script_timings: [], agent_connection_timings };
}
