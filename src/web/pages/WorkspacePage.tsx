import { useEffect, useRef, useState } from 'react';

import { Link, paths } from '../app/router.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Loading } from '../components/Loading.js';
import { PageHeader } from '../components/PageHeader.js';
import { WorkspaceStatusBadge } from '../components/StatusBadge.js';
import { RelativeTime } from '../components/Time.js';
import { useAsync } from '../hooks/useAsync.js';
import { useWorkspaceWatch } from '../hooks/useWorkspaceWatch.js';
import { client } from '../lib/client.js';
import { loadWorkspace } from '../lib/loaders.js';
import { isTransitional, queueText, withCreatedBuild } from '../lib/status.js';
import type { Workspace, WorkspaceBuild } from '../sdk.js';

import { BuildHistory } from './BuildHistory.js';
import { ResourcesPanel } from './ResourcesPanel.js';
import { WorkspaceActions } from './WorkspaceActions.js';
import { WorkspaceParameters } from './WorkspaceParameters.js';

const HISTORY_LIMIT = 50;

export function WorkspacePage({ owner, name }: { owner: string; name: string }) {
  const ws = useAsync(() => loadWorkspace(owner, name), [owner, name]);
  const w = ws.data;
  const latest = w?.latest_build;
  useWorkspaceWatch(w && !w.deleted ? w.id : undefined, (fresh) => ws.setData(() => fresh));

  const builds = useAsync(
    async () => (w ? (await client.workspaceBuilds(w.id, { limit: HISTORY_LIMIT })).sort((a, b) => b.build_number - a.build_number) : []),
    [w?.id, latest?.id, latest?.status],
  );

  const restart = useRestart(w, (b) => ws.setData((d) => withCreatedBuild(d, b)));

  if (ws.loading) return <Loading label="Loading workspace…" />;
  if (!w || !latest) {
    return (
      <div className="page">
        <PageHeader title={name} crumbs={[{ label: 'Workspaces', to: paths.workspaces() }]} />
        <ErrorBanner title="Could not load this workspace." error={ws.error} onRetry={ws.reload} />
      </div>
    );
  }

  const onBuild = (b: WorkspaceBuild, action: string) => {
    ws.setData((d) => withCreatedBuild(d, b));
    if (action === 'restart') restart.begin(b.id);
  };
  const queue = queueText(latest.job);

  return (
    <div className="page">
      <PageHeader
        crumbs={[{ label: 'Workspaces', to: paths.workspaces() }]}
        title={
          <>
            {w.name} <WorkspaceStatusBadge status={w.deleted ? 'deleted' : latest.status} testId="workspace-status" />
          </>
        }
        meta={
          <>
            <span>owner {w.owner_name}</span>
            <span>
              template{' '}
              <Link to={paths.template(w.template_name)}>{w.template_display_name || w.template_name}</Link>
              {w.outdated && <span className="pill pill-subtle">outdated</span>}
            </span>
            <span>
              last used <RelativeTime iso={w.last_used_at} />
            </span>
          </>
        }
        actions={<WorkspaceActions w={w} onBuild={onBuild} onCanceled={ws.reload} />}
      />
      {ws.error !== null && <ErrorBanner title="Could not refresh this workspace." error={ws.error} onRetry={ws.reload} />}
      {restart.error !== null && <ErrorBanner error={restart.error} />}
      {w.deleted && (
        <div className="alert alert-neutral" role="status" data-testid="workspace-deleted">
          <div className="alert-body">
            <div className="alert-title">This workspace was deleted.</div>
            <div className="alert-detail">Its build history stays readable here.</div>
          </div>
        </div>
      )}
      {!w.deleted && (isTransitional(latest.status) || restart.waiting) && (
        <div className="alert alert-info" role="status">
          <div className="alert-body">
            <div className="alert-title">
              {restart.waiting ? 'Restarting: stopping first, then starting.' : `Build #${latest.build_number} is ${latest.status}${queue ? ` (queue ${queue})` : ''}.`}
            </div>
          </div>
          <div className="alert-actions">
            <Link className="btn btn-small" to={paths.build(w.owner_name, w.name, latest.build_number)} data-testid="active-build-link">
              Watch live log
            </Link>
          </div>
        </div>
      )}
      {!isTransitional(latest.status) && latest.job.status === 'failed' && !latest.job.canceled_at && (
        <div className="alert alert-danger" role="alert">
          <div className="alert-body">
            <div className="alert-title">
              The last build (#{latest.build_number}, {latest.transition}) failed
            </div>
            {latest.job.error && <pre className="alert-pre">{latest.job.error}</pre>}
          </div>
          <div className="alert-actions">
            <Link className="btn btn-small" to={paths.build(w.owner_name, w.name, latest.build_number)}>
              View log
            </Link>
          </div>
        </div>
      )}
      <ResourcesPanel
        resources={latest.resources}
        terminal={!w.deleted && latest.status === 'running' ? (a) => paths.terminal(w.owner_name, w.name, a.name) : undefined}
      />
      <WorkspaceParameters w={w} onBuild={onBuild} />
      <BuildHistory builds={builds} owner={w.owner_name} name={w.name} />
    </div>
  );
}

/**
 * Restart is two builds: stop, then start once the stop build succeeded (Coder's dashboard did the same before
 * `on_success`). The page holds the plan; the workspace watch tells when to go on.
 */
function useRestart(w: Workspace | undefined, onStarted: (b: WorkspaceBuild) => void) {
  const [stopBuildId, setStopBuildId] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const starting = useRef(false);
  const latest = w?.latest_build;

  useEffect(() => {
    if (!w || !latest || !stopBuildId || latest.id !== stopBuildId || starting.current) return;
    if (latest.status === 'stopped') {
      starting.current = true;
      client
        .createWorkspaceBuild(w.id, { transition: 'start' })
        .then(onStarted, setError)
        .finally(() => {
          starting.current = false;
          setStopBuildId(null);
        });
    } else if (latest.status === 'failed' || latest.status === 'canceled') {
      setStopBuildId(null);
      setError(new Error(`Restart stopped: the stop build ended ${latest.status}, so the workspace was not started again.`));
    }
  }, [w, latest, stopBuildId, onStarted]);

  return {
    waiting: stopBuildId !== null,
    error,
    begin: (id: string) => {
      setError(null);
      setStopBuildId(id);
    },
  };
}
