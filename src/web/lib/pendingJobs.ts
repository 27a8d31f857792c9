import { paths } from '../app/router.js';
import type { ProvisionerJob } from '../sdk.js';

import { client } from './client.js';

export interface PendingJob {
  job: ProvisionerJob;
  kind: 'workspace build' | 'template import';
  label: string;
  link: string;
}

/**
 * The jobs waiting for a daemon, as far as this user can see them: the pending builds of their visible workspaces and
 * the pending imports of the organization's templates. (The API has no job list; these two cover what users wait on.)
 */
export async function loadPendingJobs(organizationId: string): Promise<PendingJob[]> {
  const [{ workspaces }, templates] = await Promise.all([client.workspaces(), client.templates(organizationId)]);
  const out: PendingJob[] = workspaces
    .filter((w) => w.latest_build.job.status === 'pending')
    .map((w) => ({
      job: w.latest_build.job,
      kind: 'workspace build',
      label: `${w.owner_name}/${w.name} #${w.latest_build.build_number} ${w.latest_build.transition}`,
      link: paths.build(w.owner_name, w.name, w.latest_build.build_number),
    }));
  const versions = await Promise.all(templates.map(async (t) => ({ t, versions: await client.templateVersions(t.id) })));
  for (const { t, versions: vs } of versions) {
    for (const v of vs) {
      if (v.job.status !== 'pending') continue;
      out.push({ job: v.job, kind: 'template import', label: `${t.name} version ${v.name}`, link: paths.template(t.name) });
    }
  }
  const pos = (j: PendingJob) => j.job.queue_position ?? Number.MAX_SAFE_INTEGER;
  return out.sort((a, b) => pos(a) - pos(b) || Date.parse(a.job.created_at) - Date.parse(b.job.created_at));
}
