import { useEffect, useRef, useState } from 'react';

import { client } from '../lib/client.js';
import type { ProvisionerJobLog } from '../sdk.js';

export type LogSource = { kind: 'build'; id: string } | { kind: 'templateVersion'; id: string };
export type LogStreamState = 'loading' | 'live' | 'reconnecting' | 'complete' | 'error';

const MAX_RETRIES = 5;
/** Lines arriving together are rendered together, not one React update per line. */
const BATCH_MS = 50;

function fetchAll(src: LogSource) {
  return src.kind === 'build' ? client.workspaceBuildLogs(src.id) : client.templateVersionLogs(src.id);
}

function follow(src: LogSource, after: number, signal: AbortSignal) {
  return src.kind === 'build' ? client.followWorkspaceBuildLogs(src.id, { after, signal }) : client.followTemplateVersionLogs(src.id, { after, signal });
}

/**
 * The log lines of a job. A finished job's lines are read once; a job still pending or running is followed over the
 * WebSocket (backlog first, then live lines) until the server ends the stream, resuming after the last line seen when
 * the connection drops.
 */
export function useJobLogs(src: LogSource | null, jobDoneAtStart: boolean): { logs: ProvisionerJobLog[]; state: LogStreamState; error: unknown } {
  const [logs, setLogs] = useState<ProvisionerJobLog[]>([]);
  const [state, setState] = useState<LogStreamState>('loading');
  const [error, setError] = useState<unknown>(null);
  // Read when the source changes: whether to read once or follow is decided per job, not per render.
  const doneAtStart = useRef(jobDoneAtStart);
  doneAtStart.current = jobDoneAtStart;
  const kind = src?.kind;
  const id = src?.id;

  useEffect(() => {
    if (!kind || !id) return;
    const readOnce = doneAtStart.current;
    const source = { kind, id } as LogSource;
    const ctrl = new AbortController();
    let all: ProvisionerJobLog[] = [];
    const pending: ProvisionerJobLog[] = [];
    let timer: number | undefined;
    const flush = () => {
      timer = undefined;
      if (!pending.length || ctrl.signal.aborted) return;
      all = all.concat(pending.splice(0));
      setLogs(all);
    };
    setLogs([]);
    setError(null);
    setState('loading');

    const run = async () => {
      if (readOnce) {
        all = await fetchAll(source);
        if (!ctrl.signal.aborted) setLogs(all);
        return;
      }
      let lastId = 0;
      for (let attempt = 0; ; attempt++) {
        try {
          if (!ctrl.signal.aborted) setState(attempt === 0 ? 'live' : 'reconnecting');
          let first = true;
          for await (const line of follow(source, lastId, ctrl.signal)) {
            if (first && attempt > 0) setState('live');
            first = false;
            lastId = line.id;
            pending.push(line);
            timer ??= window.setTimeout(flush, BATCH_MS);
          }
          return;
        } catch (e) {
          if (ctrl.signal.aborted || attempt >= MAX_RETRIES) throw e;
          await new Promise((r) => window.setTimeout(r, 500 * 2 ** attempt));
        }
      }
    };
    run().then(
      () => {
        if (timer !== undefined) window.clearTimeout(timer);
        flush();
        if (!ctrl.signal.aborted) setState('complete');
      },
      (e: unknown) => {
        if (ctrl.signal.aborted) return;
        flush();
        setError(e);
        setState('error');
      },
    );
    return () => {
      ctrl.abort();
      if (timer !== undefined) window.clearTimeout(timer);
    };
  }, [kind, id]);

  return { logs, state, error };
}
