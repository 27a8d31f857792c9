import { UsageError, type FlagSpec, type FlagValues } from './flags.js';
import { println, type CliIO } from './io.js';

export const outputFlag: FlagSpec = { name: 'output', short: 'o', type: 'string', default: 'table', placeholder: 'table|json', description: 'Output format' };

export function outputFormat(flags: FlagValues): 'table' | 'json' {
  const v = String(flags.output ?? 'table');
  if (v !== 'table' && v !== 'json') throw new UsageError(`--output must be table or json, got "${v}"`);
  return v;
}

export function printJson(io: CliIO, value: unknown): void {
  println(io.stdout, JSON.stringify(value, null, 2));
}

/** Upper-case headers, columns two spaces apart, no borders: what `coder list` prints and `awk` can read. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}

export function printTable(io: CliIO, headers: string[], rows: string[][], empty: string): void {
  if (rows.length === 0) {
    // To stderr, so `kiln list | wc -l` counts workspaces, not a sentence.
    println(io.stderr, empty);
    return;
  }
  println(io.stdout, formatTable(headers, rows));
}

/** 850ms, 12.3s, 4m05s, 2h03m: precise for short stages, short for long ones. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "just now", "5m ago", "3d ago": enough to tell fresh from stale in a table. */
export function timeAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
