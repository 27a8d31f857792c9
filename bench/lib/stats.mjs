// Small statistics helpers: percentiles of samples, median/min/max of repeated runs.

export function percentile(values, q) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** {median, min, max} of the runs of one figure. */
export function summarize(runs) {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}

/** Runs `fn` `n` times in sequence and returns the list of results. */
export async function repeat(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out;
}

export function fmt(n, digits = 1) {
  if (!Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(digits);
}
