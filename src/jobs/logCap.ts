import type { NewJobLog } from '../db/queries/provisionerJobLogs.js';
import type { JobLog } from '../sdk/types/provisionerd.js';

/** A single line longer than this is cut (deviation 12: never reject a batch for one long line). */
export const MAX_LOG_LINE_BYTES = 64 * 1024;

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

export interface CappedLogs {
  lines: NewJobLog[];
  logsLength: number;
  overflowed: boolean;
}

/**
 * Applies the per-job log cap to a batch: lines are kept while the job's total output stays within `maxBytes`; the
 * first line that does not fit flips `overflowed` and is replaced by one warn line saying so; after that every line
 * of the job is dropped.
 */
export function capLogs(job: { logs_length: number; logs_overflowed: boolean }, logs: JobLog[], maxBytes: number): CappedLogs {
  const out: CappedLogs = { lines: [], logsLength: job.logs_length, overflowed: job.logs_overflowed };
  if (out.overflowed) return out;
  for (const l of logs) {
    const output = truncateUtf8(clean(l.output), MAX_LOG_LINE_BYTES);
    const size = Buffer.byteLength(output);
    const createdAt = new Date(l.created_at);
    const stage = clean(l.stage);
    if (out.logsLength + size > maxBytes) {
      out.overflowed = true;
      out.lines.push({
        createdAt,
        source: 'provisioner_daemon',
        level: 'warn',
        stage,
        output: `kiln: this job's logs reached the limit of ${formatLimit(maxBytes)}; later lines were dropped.`,
      });
      return out;
    }
    out.logsLength += size;
    out.lines.push({
      createdAt,
      source: l.source === 'provisioner_daemon' ? 'provisioner_daemon' : 'provisioner',
      level: LEVELS.has(l.level) ? l.level : 'info',
      stage,
      output,
    });
  }
  return out;
}

/** PostgreSQL text cannot hold NUL bytes; a provisioner's output can. */
function clean(s: string): string {
  return s.includes('\0') ? s.replace(/\0/g, '') : s;
}

/** Cuts to at most `max` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, max: number): string {
  if (s.length * 3 <= max) return s;
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return s;
  let cut = max;
  // Step back over continuation bytes (10xxxxxx) to the start of the character that would be split.
  while (cut > 0 && ((b[cut] as number) & 0xc0) === 0x80) cut--;
  return b.subarray(0, cut).toString('utf8');
}

function formatLimit(n: number): string {
  const MiB = 1024 * 1024;
  if (n % MiB === 0) return `${n / MiB} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
