import type { Queryable } from '../../db/pool.js';
import { getEligibleProvisionerDaemons } from '../../db/queries/provisionerDaemons.js';
import { getProvisionerJobByID } from '../../db/queries/provisionerJobs.js';
import type { MatchedProvisioners } from '../../sdk/types/templates.js';
import { defaultServerOptions } from '../context.js';
import { rfc3339 } from '../convert/time.js';

/**
 * Daemons able to take a job (its provisioner, every one of its tags, its organization): Coder's
 * `matched_provisioners`, so a version nobody can build is visible at once instead of pending forever.
 */
export async function matchedProvisioners(db: Queryable, organizationId: string, jobId: string, staleMs = defaultServerOptions.provisionerDaemonStaleMs, now = new Date()): Promise<MatchedProvisioners> {
  const job = await getProvisionerJobByID(db, jobId);
  if (!job) return { count: 0, available: 0 };
  const daemons = await getEligibleProvisionerDaemons(db, { organizationId, provisioner: job.provisioner, tags: job.tags });
  const latest = daemons.reduce<Date | undefined>((m, d) => (!m || d.last_seen_at > m ? d.last_seen_at : m), undefined);
  return {
    count: daemons.length,
    available: daemons.filter((d) => now.getTime() - d.last_seen_at.getTime() <= staleMs).length,
    most_recently_seen: latest ? rfc3339(latest) : undefined,
  };
}
