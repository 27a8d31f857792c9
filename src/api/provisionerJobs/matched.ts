import type { Queryable } from '../../db/pool.js';
import { getMatchedProvisioners } from '../../db/queries/provisionerDaemons.js';
import type { MatchedProvisioners } from '../../sdk/types/provisionerJobs.js';
import { rfc3339 } from '../convert/time.js';

/** A daemon seen within this long counts as `available` (Coder's provisioner daemon stale interval). */
export const DAEMON_STALE_MS = 90_000;

/**
 * `matched_provisioners` for jobs still pending: how many daemons could take each. Running and finished jobs get none
 * (a daemon took them), so a page of finished builds costs no query.
 */
export async function matchedProvisionersFor(db: Queryable, pendingJobIds: string[], now: Date): Promise<Map<string, MatchedProvisioners>> {
  const rows = await getMatchedProvisioners(db, pendingJobIds, new Date(now.getTime() - DAEMON_STALE_MS));
  const out = new Map<string, MatchedProvisioners>();
  for (const [id, r] of rows) {
    out.set(id, { count: r.count, available: r.available, most_recently_seen: r.most_recently_seen ? rfc3339(r.most_recently_seen) : null });
  }
  return out;
}
