import type { ProvisionerJobLogRow } from '../../db/queries/provisionerJobs.js';
import type { ProvisionerJobLog } from '../../sdk/types/provisionerJobs.js';

import { rfc3339 } from './time.js';

export function convertProvisionerJobLog(r: ProvisionerJobLogRow): ProvisionerJobLog {
  return { id: r.id, created_at: rfc3339(r.created_at), log_source: r.source, log_level: r.level, stage: r.stage, output: r.output };
}
