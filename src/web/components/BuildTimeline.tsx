import { useAsync } from '../hooks/useAsync.js';
import { client } from '../lib/client.js';
import type { WorkspaceBuildTimings } from '../sdk.js';

interface Bar {
  key: string;
  label: string;
  detail: string;
  start: number;
  end: number;
}

/** Every timing of a build as one bar on a shared time axis: provisioner stages first, then agent connections and scripts. */
function bars(t: WorkspaceBuildTimings): Bar[] {
  const ms = (iso: string) => new Date(iso).getTime();
  return [
    ...t.provisioner_timings.map((p, i) => ({ key: `p${i}`, label: p.stage, detail: p.resource, start: ms(p.started_at), end: ms(p.ended_at) })),
    ...t.agent_connection_timings.map((a, i) => ({ key: `c${i}`, label: 'connect', detail: a.workspace_agent_name, start: ms(a.started_at), end: ms(a.ended_at) })),
    ...t.agent_script_timings.map((s, i) => ({ key: `s${i}`, label: s.stage, detail: `${s.workspace_agent_name}: ${s.display_name}`, start: ms(s.started_at), end: ms(s.ended_at) })),
  ];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** The build's timeline from `GET /workspacebuilds/{id}/timings`, shown once the build is done. */
export function BuildTimeline({ buildId }: { buildId: string }) {
  const res = useAsync(() => client.workspaceBuildTimings(buildId), [buildId]);
  if (!res.data) return null;
  const all = bars(res.data);
  if (all.length === 0) return null;
  const t0 = Math.min(...all.map((b) => b.start));
  const span = Math.max(1, Math.max(...all.map((b) => b.end)) - t0);
  return (
    <section className="card card-pad timeline" data-testid="build-timeline" aria-label="Build timeline">
      <h2 className="timeline-title">Timeline</h2>
      {all.map((b) => (
        <div className="timeline-row" key={b.key} data-testid="timing-row" data-stage={b.label}>
          <div className="timeline-label">
            <span className="timeline-stage">{b.label}</span> <span className="timeline-detail">{b.detail}</span>
          </div>
          <div className="timeline-track">
            <div
              className="timeline-bar"
              style={{ left: `${((b.start - t0) / span) * 100}%`, width: `${Math.max(0.5, ((b.end - b.start) / span) * 100)}%` }}
              title={seconds(b.end - b.start)}
            />
          </div>
          <div className="timeline-duration">{seconds(b.end - b.start)}</div>
        </div>
      ))}
    </section>
  );
}
