// Human formats for times and durations, used by every page.

export function formatDuration(ms: number): string {
  const t = Math.max(0, ms);
  if (t < 1000) return `${Math.round(t)}ms`;
  const s = t / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function formatRelative(iso: string | undefined | null, now: number): string {
  if (!iso) return '—';
  const diff = now - Date.parse(iso);
  if (Number.isNaN(diff)) return '—';
  const s = Math.round(diff / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h ago`;
  return new Date(iso).toLocaleDateString();
}

export function formatDateTime(iso: string | undefined | null): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** `14:03:07.120`: the time of a log line. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** How long a job ran: start to completion, or to now while it runs; null before it starts. */
export function jobDurationMs(job: { started_at?: string; completed_at?: string }, now: number): number | null {
  if (!job.started_at) return null;
  const end = job.completed_at ? Date.parse(job.completed_at) : now;
  return end - Date.parse(job.started_at);
}
