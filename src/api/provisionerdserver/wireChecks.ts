import { LOG_LEVELS } from '../../sdk/types/provisionerJobs.js';
import type { JobLog } from '../../sdk/types/provisionerd.js';
import type { WireErrorCode } from '../../sdk/types/provisionerdProtocol.js';
import { isUuid } from '../../sdk/uuid.js';

/** A request the daemon got wrong: answered with its code and message, the connection stays. */
export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const SOURCES: readonly string[] = ['provisioner_daemon', 'provisioner'];
const LEVELS: readonly string[] = LOG_LEVELS;

/**
 * The log lines of a network daemon's update, checked field by field: a line the database would refuse, or that
 * would fail while the batch is prepared, is the daemon's mistake (`bad_request`, naming the line and field), not a
 * server error that the daemon retries forever. Nothing of a refused update is stored.
 */
export function checkJobLogs(logs: unknown): JobLog[] {
  if (logs === undefined || logs === null) return [];
  if (!Array.isArray(logs)) throw new WireError('bad_request', 'logs must be an array');
  logs.forEach((l: unknown, i) => {
    const bad = (field: string, what: string) => new WireError('bad_request', `logs[${i}].${field} must be ${what}`);
    if (typeof l !== 'object' || l === null) throw new WireError('bad_request', `logs[${i}] must be an object`);
    const line = l as Record<string, unknown>;
    if (typeof line.created_at !== 'number' || !Number.isFinite(line.created_at)) throw bad('created_at', 'unix milliseconds (a finite number)');
    if (typeof line.source !== 'string' || !SOURCES.includes(line.source)) throw bad('source', `one of ${SOURCES.join(', ')}`);
    if (typeof line.level !== 'string' || !LEVELS.includes(line.level)) throw bad('level', `one of ${LEVELS.join(', ')}`);
    if (typeof line.stage !== 'string') throw bad('stage', 'a string');
    if (typeof line.output !== 'string') throw bad('output', 'a string');
    if (line.seq !== undefined && !(Number.isSafeInteger(line.seq) && (line.seq as number) > 0)) throw bad('seq', 'a positive integer');
  });
  return logs as JobLog[];
}


/** A request's `job_id`: a UUID, or the request is refused (the database would fail on anything else). */
export function checkJobId(id: unknown): string {
  if (typeof id !== 'string' || !isUuid(id)) throw new WireError('bad_request', 'job_id must be a UUID');
  return id;
}
