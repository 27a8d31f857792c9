import { inTx } from '../../db/pool.js';
import { getStartupLogCapForUpdate, insertStartupLogs, setStartupLogCap, type NewStartupLog, type StartupLogRow } from '../../db/queries/workspaceAgentStartupLogs.js';
import { agentStartupLogsChannel, type LogsNotification } from '../../jobs/channels.js';
import { truncateUtf8, MAX_LOG_LINE_BYTES } from '../../jobs/logCap.js';
import type { PatchStartupLogsRequest, WorkspaceAgentStartupLog } from '../../sdk/types/workspaceAgents.js';
import type { ServerContext } from '../context.js';
import { derivedId } from '../convert/workspaceResources.js';
import { ApiError, errors } from '../http/errors.js';

/** Reference §9.4: about 1 MiB of startup log per agent. */
export const MAX_STARTUP_LOG_BYTES = 1024 * 1024;
/**
 * What one stored line costs beyond its text (id, agent, time, level, row header), counted against the cap: without it
 * a million empty lines would pass a cap meant to bound storage.
 */
export const STARTUP_LOG_LINE_OVERHEAD = 64;
const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

export function convertStartupLog(r: StartupLogRow): WorkspaceAgentStartupLog {
  // Every line kiln stores comes from the startup script, so its source is the startup script's log source.
  return { id: r.id, created_at: r.created_at.toISOString(), output: r.output, level: r.level as WorkspaceAgentStartupLog['level'], source_id: derivedId(r.agent_id, 'startup-log-source') };
}

function parseLogs(body: PatchStartupLogsRequest | undefined): NewStartupLog[] {
  const logs = body?.logs;
  if (!Array.isArray(logs) || logs.length === 0) throw errors.badRequest('No logs provided.');
  return logs.map((l, i) => {
    if (typeof l?.output !== 'string') throw errors.badRequest('Invalid log provided.', `logs[${i}].output must be a string`);
    const level = l.level ?? 'info';
    if (!LEVELS.has(level)) throw errors.badRequest('Invalid log level provided.', `invalid log level: "${String(level)}"`);
    const createdAt = l.created_at ? new Date(l.created_at) : new Date();
    if (Number.isNaN(createdAt.getTime())) throw errors.badRequest('Invalid log provided.', `logs[${i}].created_at must be an RFC 3339 time`);
    // PostgreSQL text cannot hold NUL bytes; a script's output can.
    return { createdAt, level, output: truncateUtf8(l.output.replace(/\0/g, ''), MAX_LOG_LINE_BYTES) };
  });
}

/** The bytes a line counts against the per-agent cap: its UTF-8 text plus the per-line overhead. */
export function startupLogLineCost(output: string): number {
  return Buffer.byteLength(output) + STARTUP_LOG_LINE_OVERHEAD;
}

/**
 * Stores a batch of startup log lines under the per-agent cap. Lines are kept while they fit; the first that does not
 * sets `startup_logs_overflowed`, and that batch and every later one answer 413 so the agent stops sending.
 */
export async function appendStartupLogs(ctx: ServerContext, agentId: string, body: PatchStartupLogsRequest | undefined): Promise<void> {
  const logs = parseLogs(body);
  const result = await inTx(ctx.pool, async (tx) => {
    const cap = await getStartupLogCapForUpdate(tx, agentId);
    if (!cap) throw errors.resourceNotFound();
    if (cap.startup_logs_overflowed) return { overflowed: true, inserted: false };
    let length = cap.startup_logs_length;
    const keep: NewStartupLog[] = [];
    let overflowed = false;
    for (const l of logs) {
      const size = startupLogLineCost(l.output);
      if (length + size > MAX_STARTUP_LOG_BYTES) {
        overflowed = true;
        break;
      }
      length += size;
      keep.push(l);
    }
    await insertStartupLogs(tx, agentId, keep);
    await setStartupLogCap(tx, agentId, length, overflowed);
    return { overflowed, inserted: keep.length > 0 };
  });
  if (result.inserted || result.overflowed) {
    const note: LogsNotification = { created_after: 0 };
    await ctx.pubsub.publish(agentStartupLogsChannel(agentId), JSON.stringify(note)).catch(() => {});
  }
  if (result.overflowed) {
    throw new ApiError(413, 'Startup logs limit exceeded.', `An agent's startup logs are capped at ${MAX_STARTUP_LOG_BYTES} bytes; later lines are dropped.`);
  }
}
