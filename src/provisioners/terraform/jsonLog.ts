import type { LogLevel } from '../../provisionersdk/provisioner.js';

/** A diagnostic as Terraform's machine-readable UI reports it (`-json`). */
export interface Diagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail?: string;
  range?: { filename: string; start: { line: number } };
  snippet?: { context?: string | null; code: string; start_line: number };
}

interface UiMessage {
  '@level'?: string;
  '@message'?: string;
  type?: string;
  diagnostic?: Diagnostic;
}

export interface LogLine {
  level: LogLevel;
  output: string;
}

export function convertLevel(level: string | undefined): LogLevel {
  switch (level) {
    case 'trace':
    case 'debug':
    case 'info':
    case 'error':
      return level;
    case 'warn':
    case 'warning':
      return 'warn';
    default:
      return 'info';
  }
}

/** A diagnostic in the shape Terraform prints it: severity and summary, where, the code, then the detail. */
export function formatDiagnostic(d: Diagnostic): string[] {
  const out = [`${d.severity === 'error' ? 'Error' : 'Warning'}: ${d.summary}`];
  if (d.range) {
    out.push('', `  on ${d.range.filename} line ${d.range.start.line}${d.snippet?.context ? `, in ${d.snippet.context}` : ''}:`);
    if (d.snippet) d.snippet.code.split('\n').forEach((code, i) => out.push(`${String((d.snippet?.start_line ?? 0) + i).padStart(4)}: ${code}`));
  }
  if (d.detail) out.push('', ...d.detail.split('\n'));
  return out;
}

/**
 * One line of `terraform … -json` output → the build log lines it becomes. A message holding several lines becomes
 * several log lines (each line of Terraform's output stays one log line); a diagnostic becomes its formatted text at
 * its own severity; a line that is not JSON (a crash, a provider's raw output) is kept as it is.
 */
export function convertJsonLine(line: string, fallback: LogLevel): { lines: LogLine[]; diagnostic?: Diagnostic } {
  let msg: UiMessage;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object') throw new Error('not an object');
    msg = parsed as UiMessage;
  } catch {
    return { lines: [{ level: fallback, output: line }] };
  }
  if (msg.type === 'diagnostic' && msg.diagnostic) {
    const level = msg.diagnostic.severity === 'error' ? 'error' : 'warn';
    return { lines: formatDiagnostic(msg.diagnostic).map((output) => ({ level, output })), diagnostic: msg.diagnostic };
  }
  const level = convertLevel(msg['@level']);
  return { lines: (msg['@message'] ?? '').split('\n').map((output) => ({ level, output })) };
}

/** Terraform's generic preface to init's configuration errors: the diagnostics after it say what is wrong. */
const GENERIC_INIT_ERROR = /^Terraform encountered problems during initiali[sz]ation/;

/**
 * The job error for a command without `-json` output (init): each `Error:` diagnostic in its text as
 * "summary (where): detail", the generic preface left out.
 */
export function summarizeTextErrors(lines: string[]): string | undefined {
  const diags: { summary: string; where?: string; detail: string[] }[] = [];
  let cur: (typeof diags)[number] | undefined;
  for (const raw of lines) {
    const line = raw.replace(/^[│╷╵]\s?/, '').trimEnd();
    const err = /^Error: (.*)$/.exec(line);
    if (err) {
      cur = GENERIC_INIT_ERROR.test(err[1] ?? '') ? undefined : { summary: err[1] ?? '', detail: [] };
      if (cur) diags.push(cur);
      continue;
    }
    if (!cur || !line.trim()) continue;
    const where = /^\s*on (.+ line \d+)/.exec(line);
    if (where) cur.where = where[1];
    else if (!/^\s*\d+:/.test(line) && !/^\s{2,}/.test(line)) cur.detail.push(line.trim());
  }
  if (diags.length === 0) return undefined;
  return diags.map((d) => `${d.summary}${d.where ? ` (${d.where})` : ''}${d.detail.length ? `: ${d.detail.join(' ')}` : ''}`).join('; ');
}
