import { useEffect, useRef, useState } from 'react';

import { Link, navigate, paths, useLocation } from '../app/router.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Loading } from '../components/Loading.js';
import { PageHeader } from '../components/PageHeader.js';
import { WorkspaceStatusBadge } from '../components/StatusBadge.js';
import { RelativeTime } from '../components/Time.js';
import { useAsync } from '../hooks/useAsync.js';
import { useInterval } from '../hooks/useInterval.js';
import { useWorkspaceWatches } from '../hooks/useWorkspaceWatch.js';
import { client } from '../lib/client.js';
import { isTransitional, queueText } from '../lib/status.js';
import type { Workspace } from '../sdk.js';

const POLL_MS = 5000;
/** Browsers give a server about six HTTP/1.1 connections; the list never takes more than this many for watches. */
const MAX_WATCHES = 4;

export function WorkspacesPage() {
  const { search } = useLocation();
  const filter = search.get('filter') ?? '';
  const [text, setText] = useState(filter);
  const written = useRef(filter);

  // The filter lives in the URL (shareable); typing updates it after a short pause, and a URL changed another way
  // (history) updates the box.
  useEffect(() => {
    if (filter === written.current) return;
    written.current = filter;
    setText(filter);
  }, [filter]);
  useEffect(() => {
    const t = window.setTimeout(() => {
      if (text.trim() === filter) return;
      written.current = text.trim();
      navigate(paths.workspaces(text.trim() || undefined), { replace: true });
    }, 300);
    return () => window.clearTimeout(t);
  }, [text, filter]);

  const list = useAsync(() => client.workspaces({ q: filter || undefined }), [filter]);
  const workspaces = list.data?.workspaces ?? [];

  // New and removed workspaces show up by polling; builds in progress are followed live through their watch streams.
  useInterval(list.reload, POLL_MS);
  const building = workspaces.filter((w) => isTransitional(w.latest_build.status)).slice(0, MAX_WATCHES);
  useWorkspaceWatches(
    building.map((w) => w.id),
    (fresh) => list.setData((d) => ({ ...d, workspaces: d.workspaces.map((w) => (w.id === fresh.id ? fresh : w)) })),
  );

  return (
    <div className="page">
      <PageHeader
        title="Workspaces"
        actions={
          <Link className="btn btn-primary" to={paths.newWorkspace()}>
            New workspace
          </Link>
        }
      />
      <div className="toolbar">
        <input
          className="input input-search"
          type="search"
          placeholder="Filter: name, owner:me, template:dev, status:running"
          aria-label="Filter workspaces"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        {list.data && <span className="muted">{countText(list.data.count)}</span>}
      </div>
      {list.error !== null && <ErrorBanner title="Could not list workspaces." error={list.error} onRetry={list.reload} />}
      {list.loading ? <Loading label="Loading workspaces…" /> : list.data && <WorkspaceTable workspaces={workspaces} filter={filter} />}
    </div>
  );
}

function countText(n: number): string {
  return n === 1 ? '1 workspace' : `${n} workspaces`;
}

function WorkspaceTable({ workspaces, filter }: { workspaces: Workspace[]; filter: string }) {
  if (!workspaces.length) {
    return filter ? (
      <EmptyState title="No workspaces match this filter">
        Nothing matches <code>{filter}</code>.
      </EmptyState>
    ) : (
      <EmptyState
        title="No workspaces yet"
        action={
          <Link className="btn btn-primary" to={paths.newWorkspace()}>
            Create a workspace
          </Link>
        }
      >
        A workspace is made from a template; every start, stop and delete is a build you can watch live.
      </EmptyState>
    );
  }
  return (
    <div className="card table-card">
      <table className="table" data-testid="workspaces-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Template</th>
            <th>Status</th>
            <th>Last build</th>
            <th>Owner</th>
          </tr>
        </thead>
        <tbody>
          {workspaces.map((w) => (
            <WorkspaceRow key={w.id} w={w} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function WorkspaceRow({ w }: { w: Workspace }) {
  const b = w.latest_build;
  const queue = queueText(b.job);
  return (
    <tr data-testid="workspace-row" data-name={w.name}>
      <td>
        <Link className="strong" to={paths.workspace(w.owner_name, w.name)}>
          {w.name}
        </Link>
        {w.outdated && <span className="pill pill-subtle">outdated</span>}
      </td>
      <td>
        <Link className="quiet-link" to={paths.template(w.template_name)}>
          {w.template_display_name || w.template_name}
        </Link>
      </td>
      <td>
        <WorkspaceStatusBadge status={b.status} testId="workspace-status" />
        {queue && <span className="muted small"> queue {queue}</span>}
      </td>
      <td>
        <Link className="quiet-link" to={paths.build(w.owner_name, w.name, b.build_number)}>
          #{b.build_number} {b.transition}
        </Link>{' '}
        <span className="muted">
          · <RelativeTime iso={b.created_at} />
        </span>
      </td>
      <td>{w.owner_name}</td>
    </tr>
  );
}
