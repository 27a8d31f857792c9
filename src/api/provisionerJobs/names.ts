import type { Queryable } from '../../db/pool.js';
import { getJobNames } from '../../db/queries/provisionerJobs.js';
import type { JobNames } from '../convert/provisionerJobs.js';

/** Job id → the names its wire `metadata` shows; jobs of any kind (imports, builds, dry runs). */
export async function loadJobNames(db: Queryable, jobIds: string[]): Promise<Map<string, JobNames>> {
  const out = new Map<string, JobNames>();
  for (const r of await getJobNames(db, jobIds)) {
    out.set(r.id, {
      templateVersionName: r.template_version_name ?? '',
      ...(r.template_id ? { template: { id: r.template_id, name: r.template_name ?? '', display_name: r.template_display_name ?? '', icon: r.template_icon ?? '' } } : {}),
      ...(r.workspace_id ? { workspace: { id: r.workspace_id, name: r.workspace_name ?? '' } } : {}),
    });
  }
  return out;
}
