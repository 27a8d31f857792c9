import { formatDateTime, formatDuration, formatRelative, jobDurationMs } from '../lib/format.js';
import { useNow } from '../hooks/useInterval.js';

/** "3m ago", with the exact time on hover; refreshes itself. */
export function RelativeTime({ iso }: { iso: string | undefined | null }) {
  const now = useNow(10_000);
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatRelative(iso, now)}
    </time>
  );
}

/** How long a job ran, ticking while it runs. */
export function JobDuration({ job }: { job: { started_at?: string; completed_at?: string } }) {
  const now = useNow(job.started_at && !job.completed_at ? 1000 : 60_000);
  const ms = jobDurationMs(job, now);
  if (ms === null) return <span className="muted">—</span>;
  return <span className="num">{formatDuration(ms)}</span>;
}
