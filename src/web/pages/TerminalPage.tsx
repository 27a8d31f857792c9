import { useEffect, useRef, useState } from 'react';

import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

import { navigate, paths, useLocation } from '../app/router.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Loading } from '../components/Loading.js';
import { PageHeader } from '../components/PageHeader.js';
import { useAsync } from '../hooks/useAsync.js';
import { loadWorkspace } from '../lib/loaders.js';

type Status = 'connecting' | 'connected' | 'ended' | 'failed';

/**
 * A terminal in the workspace, on Coder's reconnecting PTY (`/workspaceagents/{id}/pty`). The terminal's id lives in
 * the page URL (`?reconnect=`), so a reload, or the same URL in another tab, attaches to the same shell and shows its
 * recent output again. The session cookie authenticates the WebSocket (same origin: the CSRF guard lets it through).
 */
export function TerminalPage({ owner, target }: { owner: string; target: string }) {
  const [name = '', agentName] = target.split('.');
  const ws = useAsync(() => loadWorkspace(owner, name), [owner, name]);
  const { search } = useLocation();
  const reconnect = search.get('reconnect');

  // A fresh id on first open, written into the URL without a new history entry.
  useEffect(() => {
    if (!reconnect) {
      const q = new URLSearchParams(search);
      q.set('reconnect', crypto.randomUUID());
      navigate(`${window.location.pathname}?${q.toString()}`, { replace: true });
    }
  }, [reconnect, search]);

  const agents = ws.data?.latest_build.resources.flatMap((r) => r.agents ?? []) ?? [];
  const agent = agentName ? agents.find((a) => a.name === agentName) : agents[0];
  const title = `Terminal · ${name}${agent ? `.${agent.name}` : ''}`;

  if (ws.loading) return <Loading label="Loading workspace…" />;
  return (
    <div className="page terminal-page">
      <PageHeader title={title} crumbs={[{ label: 'Workspaces', to: paths.workspaces() }, { label: name, to: paths.workspace(owner, name) }]} />
      {ws.error !== null && <ErrorBanner title="Could not load this workspace." error={ws.error} onRetry={ws.reload} />}
      {ws.data && !agent && (
        <div className="alert alert-neutral" role="status">
          <div className="alert-body">{agentName ? `This workspace has no agent "${agentName}".` : 'This workspace has no agent to open a terminal on.'}</div>
        </div>
      )}
      {ws.data && ws.data.latest_build.status !== 'running' && (
        <div className="alert alert-neutral" role="status" data-testid="terminal-not-running">
          <div className="alert-body">The workspace is {ws.data.latest_build.status}: start it to open a terminal.</div>
        </div>
      )}
      {agent && reconnect && ws.data?.latest_build.status === 'running' && <TerminalView agentId={agent.id} reconnect={reconnect} />}
    </div>
  );
}

function TerminalView({ agentId, reconnect }: { agentId: string; reconnect: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>('connecting');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const term = new Terminal({ cursorBlink: true, fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', fontSize: 14, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    fit.fit();
    setStatus('connecting');
    const url = new URL(`/api/v2/workspaceagents/${encodeURIComponent(agentId)}/pty`, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('reconnect', reconnect);
    url.searchParams.set('width', String(term.cols));
    url.searchParams.set('height', String(term.rows));
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    const send = (req: { data?: string; width?: number; height?: number }) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(req));
    };
    socket.onopen = () => {
      setStatus('connected');
      term.focus();
    };
    socket.onmessage = (e: MessageEvent<ArrayBuffer | string>) => term.write(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
    socket.onclose = (e) => setStatus(e.code === 1000 ? 'ended' : 'failed');
    const input = term.onData((data) => send({ data }));
    const resized = term.onResize(({ cols, rows }) => send({ width: cols, height: rows }));
    // Ctrl+Shift+C / Ctrl+Shift+V copy and paste (plain Ctrl+C is the terminal's interrupt).
    term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === 'KeyC' && term.hasSelection()) {
        void navigator.clipboard?.writeText(term.getSelection());
        return false;
      }
      if (e.code === 'KeyV') {
        void navigator.clipboard?.readText().then((t) => t && send({ data: t }));
        return false;
      }
      return true;
    });
    const onWindowResize = () => fit.fit();
    window.addEventListener('resize', onWindowResize);
    return () => {
      window.removeEventListener('resize', onWindowResize);
      input.dispose();
      resized.dispose();
      socket.onclose = null;
      socket.close();
      term.dispose();
    };
  }, [agentId, reconnect, attempt]);

  return (
    <section className="card terminal-card">
      <div className="terminal-status small muted" data-testid="terminal-status" data-status={status}>
        {status === 'connecting' && 'Connecting…'}
        {status === 'connected' && 'Connected'}
        {status === 'ended' && 'The terminal ended.'}
        {status === 'failed' && 'The connection to the workspace was lost.'}
        {(status === 'ended' || status === 'failed') && (
          <button type="button" className="btn btn-small" onClick={() => setAttempt((n) => n + 1)} data-testid="terminal-reconnect">
            {status === 'ended' ? 'New terminal' : 'Reconnect'}
          </button>
        )}
      </div>
      {/* The height is set here: the terminal fits its rows to it (FitAddon), so it must not follow the content. */}
      <div className="terminal-host" ref={host} data-testid="terminal" style={{ height: 'calc(100vh - 16rem)' }} />
    </section>
  );
}
