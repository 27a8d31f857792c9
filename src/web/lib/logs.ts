import type { ProvisionerJobLog } from '../sdk.js';

/** A run of consecutive log lines of one stage, with when it started and ended. */
export interface LogStage {
  key: string;
  name: string;
  /** Lines with text; the daemon's empty stage markers only mark where a stage begins. */
  lines: ProvisionerJobLog[];
  startedAt: number;
  /** Null while it is the last stage of a job still running. */
  endedAt: number | null;
  worst: 'error' | 'warn' | null;
}

/**
 * Groups lines by stage, in order. A stage ends where the next one begins; the last one ends when the job completed
 * (`jobEnd`), or at its own last line when the job is done but its completion time is unknown.
 */
export function groupLogsByStage(logs: ProvisionerJobLog[], opts: { jobDone: boolean; jobEnd?: string }): LogStage[] {
  const stages: LogStage[] = [];
  let lastAt = 0;
  for (const line of logs) {
    const at = Date.parse(line.created_at);
    let cur = stages[stages.length - 1];
    if (!cur || cur.name !== line.stage) {
      if (cur) cur.endedAt = at;
      cur = { key: `${line.id}`, name: line.stage || 'Logs', lines: [], startedAt: at, endedAt: null, worst: null };
      stages.push(cur);
    }
    if (line.output !== '') cur.lines.push(line);
    if (line.log_level === 'error') cur.worst = 'error';
    else if (line.log_level === 'warn' && cur.worst !== 'error') cur.worst = 'warn';
    lastAt = at;
  }
  const last = stages[stages.length - 1];
  if (last && opts.jobDone) last.endedAt = opts.jobEnd ? Math.max(Date.parse(opts.jobEnd), last.startedAt) : lastAt;
  return stages;
}

/** The log as plain text for download: one line each, RFC 3339 time, level, stage. */
export function logsToText(logs: ProvisionerJobLog[]): string {
  return logs
    .map((l) => `${l.created_at} ${l.log_level.toUpperCase().padEnd(5)} [${l.stage}]${l.output ? ` ${l.output}` : ''}`)
    .join('\n')
    .concat('\n');
}

export function downloadText(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
