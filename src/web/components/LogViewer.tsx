import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';

import { useNow } from '../hooks/useInterval.js';
import type { LogStreamState } from '../hooks/useJobLogs.js';
import { formatClock, formatDuration } from '../lib/format.js';
import { groupLogsByStage, type LogStage } from '../lib/logs.js';
import type { ProvisionerJobLog } from '../sdk.js';

import { Spinner } from './Loading.js';

/** How close to the bottom still counts as "at the bottom" (a wheel notch is ~100px). */
const STICKY_PX = 24;

export interface LogViewerProps {
  logs: ProvisionerJobLog[];
  state: LogStreamState;
  jobDone: boolean;
  jobEnd?: string;
  /** Shown when the finished job wrote nothing. */
  emptyText: string;
  /** Shown while the job runs and has written nothing yet. */
  waitingText?: string;
}

/**
 * A job's log, grouped by stage with each stage's duration. While lines stream in it keeps the newest in view, until
 * the user scrolls up to read; scrolling back to the bottom (or the button) resumes following.
 */
export function LogViewer({ logs, state, jobDone, jobEnd, emptyText, waitingText = 'Waiting for the first log line…' }: LogViewerProps) {
  const live = state === 'live' || state === 'reconnecting';
  const now = useNow(live ? 1000 : 60_000);
  const stages = useMemo(() => groupLogsByStage(logs, { jobDone, jobEnd }), [logs, jobDone, jobEnd]);
  const box = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const [detached, setDetached] = useState(false);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());

  useLayoutEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [logs]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= STICKY_PX;
    follow.current = atBottom;
    setDetached(!atBottom);
  };

  // Scrolling up with the wheel stops following at the input, before the browser scrolls. The listener is not passive
  // (React's are) so that the browser waits for it: with a passive one the browser's compositor scrolled first, a busy
  // page then followed a batch of lines to the bottom from the position it had not yet heard of, and the wheel's
  // distance, applied after, left the view a line or two below where the user put it (40 and 20 px in two loaded
  // test runs; a line is 20 px).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      if (e.deltaY >= 0 || !follow.current) return;
      follow.current = false;
      setDetached(true);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, []);

  const jumpToEnd = () => {
    const el = box.current;
    if (!el) return;
    follow.current = true;
    el.scrollTop = el.scrollHeight;
    setDetached(false);
  };

  const toggle = (key: string) =>
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (!next.delete(key)) next.add(key);
      return next;
    });

  const showEmpty = stages.every((s) => s.lines.length === 0) && state !== 'loading';

  return (
    <div className="log-viewer">
      <div className="log-scroll" ref={box} onScroll={onScroll} data-testid="log-scroll" data-following={detached ? 'false' : 'true'}>
        {state === 'loading' && logs.length === 0 && (
          <div className="log-empty">
            <Spinner small /> Loading log…
          </div>
        )}
        {stages.map((s, i) => (
          <StageBlock
            key={s.key}
            stage={s}
            running={live && i === stages.length - 1}
            now={now}
            open={!collapsed.has(s.key)}
            onToggle={() => toggle(s.key)}
          />
        ))}
        {showEmpty && <div className="log-empty">{live ? waitingText : emptyText}</div>}
      </div>
      <div className="log-footer">
        <span data-testid="log-stream-state">
          {state === 'live' && (
            <>
              <span className="live-dot" aria-hidden="true" /> Live
            </>
          )}
          {state === 'reconnecting' && (
            <>
              <Spinner small /> Reconnecting…
            </>
          )}
          {state === 'complete' && 'End of log'}
          {state === 'error' && 'Log stream failed'}
        </span>
        <span className="muted">{logs.filter((l) => l.output !== '').length} lines</span>
        {detached && (
          <button type="button" className="btn btn-small log-jump" onClick={jumpToEnd}>
            {live ? 'Follow new lines ↓' : 'Jump to end ↓'}
          </button>
        )}
      </div>
    </div>
  );
}

function StageBlock({ stage, running, now, open, onToggle }: { stage: LogStage; running: boolean; now: number; open: boolean; onToggle: () => void }) {
  const ms = stage.endedAt !== null ? stage.endedAt - stage.startedAt : running ? now - stage.startedAt : null;
  return (
    <section className={`log-stage${stage.worst ? ` log-stage-${stage.worst}` : ''}`} data-testid="log-stage" data-stage={stage.name}>
      <button type="button" className="log-stage-header" onClick={onToggle} aria-expanded={open}>
        <svg className={open ? 'chevron chevron-open' : 'chevron'} viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
          <path d="M6 3.5 10.5 8 6 12.5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
        <span className="log-stage-name">{stage.name}</span>
        {stage.worst === 'error' && <span className="log-stage-flag">error</span>}
        <span className="log-stage-count">{stage.lines.length ? `${stage.lines.length} lines` : ''}</span>
        <span className="log-stage-time" data-testid="stage-duration">
          {running && <Spinner small />}
          {ms === null ? '' : formatDuration(ms)}
        </span>
      </button>
      {open &&
        stage.lines.map((l) => (
          <div className={`log-line log-${l.log_level}`} key={l.id} data-testid="log-line">
            <span className="log-time">{formatClock(l.created_at)}</span>
            <span className="log-text">{l.output}</span>
          </div>
        ))}
    </section>
  );
}
