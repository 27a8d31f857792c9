import type { DaemonJobSummary, ProvisionerDaemonWithJobsRow } from '../../db/queries/provisionerDaemons.js';
import { PROVISIONERD_API_VERSION } from '../../sdk/types/provisionerdProtocol.js';
import type { ProvisionerDaemon, ProvisionerDaemonJob, ProvisionerDaemonStatus } from '../../sdk/types/provisionerDaemons.js';

import { jobStatus } from './provisionerJobs.js';
import { optionalTime, rfc3339 } from './time.js';

const ZERO = '00000000-0000-0000-0000-000000000000';
/** Coder's pseudo-keys for daemons that did not connect with a provisioner key. */
export const PSEUDO_KEYS = {
  'built-in': '00000000-0000-0000-0000-000000000001',
  'user-auth': '00000000-0000-0000-0000-000000000002',
  psk: '00000000-0000-0000-0000-000000000003',
} as const;

export function daemonStatus(d: Pick<ProvisionerDaemonWithJobsRow, 'last_seen_at' | 'current_job'>, now: Date, staleMs: number): ProvisionerDaemonStatus {
  if (now.getTime() - d.last_seen_at.getTime() > staleMs) return 'offline';
  return d.current_job ? 'busy' : 'idle';
}

function daemonJob(j: DaemonJobSummary | null): ProvisionerDaemonJob | null {
  if (!j) return null;
  return { id: j.id, status: jobStatus(j), template_name: j.template_name, template_icon: j.template_icon, template_display_name: j.template_display_name };
}

export function convertProvisionerDaemon(d: ProvisionerDaemonWithJobsRow, now: Date, staleMs: number): ProvisionerDaemon {
  const keyName = d.auth === 'key' ? d.key_name : d.auth;
  return {
    id: d.id,
    organization_id: d.organization_id ?? ZERO,
    key_id: d.auth === 'key' ? (d.key_id ?? ZERO) : PSEUDO_KEYS[d.auth],
    created_at: rfc3339(d.created_at),
    updated_at: optionalTime(d.updated_at),
    last_seen_at: optionalTime(d.last_seen_at),
    name: d.name,
    version: d.version,
    // Built-in daemons speak the protocol in-process: the server's own version.
    api_version: d.api_version || PROVISIONERD_API_VERSION,
    provisioners: d.provisioners,
    tags: d.tags,
    key_name: keyName,
    status: daemonStatus(d, now, staleMs),
    current_job: daemonJob(d.current_job),
    previous_job: daemonJob(d.previous_job),
    current_job_id: d.current_job?.id,
  };
}
