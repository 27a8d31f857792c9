import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full GC before it collects again, in percent:
 * 100 means up to twice the live heap (as Go's GOGC=100). Left to itself V8 picks that factor between 1.1 and 4 from
 * how fast it collects, and for a 200,000-line job (~40 MB live) its choice flipped from run to run: the server's
 * peak RSS was ~180 MB in some runs and ~220 MB in others (bench/, the same commit). With 100 it stays at ~160–170 MB;
 * such a job then has about one more full GC. 0 leaves the choice to V8.
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 100;

/** Applies `percent` to this process's V8 (a process-wide setting, read at every full GC). */
export function boundHeapGrowth(percent: number = DEFAULT_HEAP_GROWING_PERCENT): void {
  if (!Number.isInteger(percent) || percent < 0) throw new Error(`heap growing percent must be a whole number ≥ 0, not ${percent}`);
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
