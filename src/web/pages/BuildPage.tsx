import { useEffect, useState } from 'react';

import { Link, paths } from '../app/router.js';
import { BuildTimeline } from '../components/BuildTimeline.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Loading } from '../components/Loading.js';
import { LogViewer } from '../components/LogViewer.js';
import { PageHeader } from '../components/PageHeader.js';
import { WorkspaceStatusBadge } from '../components/StatusBadge.js';
import { JobDuration, RelativeTime } from '../components/Time.js';
import { useAsync } from '../hooks/useAsync.js';
import { useInterval } from '../hooks/useInterval.js';
import { useJobLogs } from '../hooks/useJobLogs.js';
import { useWorkspaceWatch } from '../hooks/useWorkspaceWatch.js';
import { client } from '../lib/client.js';
import { loadBuild } from '../lib/loaders.js';
import { downloadText, logsToText } from '../lib/logs.js';
import { isJobDone, queueText } from '../lib/status.js';
import type { WorkspaceBuild } from '../sdk.js';

/** A fallback for the watch stream: how often an unfinished build is re-read. */
const POLL_MS = 5000;

export function BuildPage({ owner, name, number }: { owner: string; name: string; number: string }) {
  const res = useAsync(() => loadBuild(owner, name, number), [owner, name, number]);
  const build = res.data;
  const done = build ? isJobDone(build.job) : false;

  useWorkspaceWatch(build && !done ? build.workspace_id : undefined, (w) => {
    if (w.latest_build.id === build?.id) res.setData(() => w.latest_build);
    else res.reload();
  });
  useInterval(res.reload, build && !done ? POLL_MS : null);

  const logs = useJobLogs(build ? { kind: 'build', id: build.id } : null, done);
  // The server ends the stream when the job ends: read the final status right away.
  useEffect(() => {
    if (logs.state === 'complete' && !done) res.reload();
  }, [logs.state, done, res.reload]);

  if (res.loading) return <Loading label="Loading build…" />;
  if (!build) {
    return (
      <div className="page">
        <PageHeader title={`Build #${number}`} crumbs={[{ label: 'Workspaces', to: paths.workspaces() }, { label: `${owner}/${name}`, to: paths.workspace(owner, name) }]} />
        <ErrorBanner title="Could not load this build." error={res.error} onRetry={res.reload} />
      </div>
    );
  }

  const download = () => downloadText(`${build.workspace_name}-build-${build.build_number}.log`, logsToText(logs.logs));

  return (
    <div className="page">
      <PageHeader
        crumbs={[
          { label: 'Workspaces', to: paths.workspaces() },
          { label: `${build.workspace_owner_name}/${build.workspace_name}`, to: paths.workspace(build.workspace_owner_name, build.workspace_name) },
        ]}
        title={
          <>
            Build #{build.build_number} <span className="title-sub">{build.transition}</span> <WorkspaceStatusBadge status={build.status} testId="build-status" />
          </>
        }
        actions={
          <>
            <button type="button" className="btn" onClick={download} disabled={logs.logs.length === 0}>
              Download log
            </button>
            <CancelBuildButton build={build} onCanceled={res.reload} />
          </>
        }
      />
      {res.error !== null && <ErrorBanner title="Could not refresh this build." error={res.error} onRetry={res.reload} />}
      <BuildOutcome build={build} />
      <BuildFacts build={build} />
      {done && <BuildTimeline buildId={build.id} />}
      {logs.state === 'error' && <ErrorBanner title="The log stream failed." error={logs.error} />}
      <LogViewer
        logs={logs.logs}
        state={logs.state}
        jobDone={done}
        jobEnd={build.job.completed_at}
        emptyText="This build wrote no log lines."
        waitingText={build.job.status === 'pending' ? 'No log yet: the build starts when a provisioner daemon picks it up.' : 'Waiting for the first log line…'}
      />
    </div>
  );
}

/** What the user most needs first: why it failed, that it was canceled, or where it waits. */
function BuildOutcome({ build }: { build: WorkspaceBuild }) {
  const job = build.job;
  // Coder's rule, kept by the API: a canceled job that ended with an error reads as failed. Say what happened.
  const canceledByRequest = Boolean(job.canceled_at);
  if (job.status === 'failed' && !canceledByRequest) {
    return (
      <div className="alert alert-danger alert-outcome" role="alert" data-testid="build-error">
        <div className="alert-body">
          <div className="alert-title">Build failed</div>
          <pre className="alert-pre">{job.error || 'The provisioner reported no error message.'}</pre>
          <div className="alert-detail">Error lines in the log below are marked in red, and their stage is flagged.</div>
        </div>
      </div>
    );
  }
  if (job.status === 'canceled' || job.status === 'canceling' || canceledByRequest) {
    return (
      <div className="alert alert-warning alert-outcome" role="status" data-testid="build-canceled">
        <div className="alert-body">
          <div className="alert-title">{job.status === 'canceling' ? 'Canceling…' : 'Build canceled'}</div>
          {job.error && <div className="alert-detail">The provisioner stopped with: {job.error}</div>}
        </div>
      </div>
    );
  }
  if (job.status === 'pending') {
    const q = queueText(job);
    const matched = build.matched_provisioners;
    if (matched && matched.count === 0) {
      // Nothing pending in silence: no daemon offers what this build needs, so it would wait until the pending timeout.
      return (
        <div className="alert alert-warning alert-outcome" role="alert" data-testid="build-no-provisioner">
          <div className="alert-body">
            <div className="alert-title">No provisioner daemon can run this build</div>
            <div className="alert-detail">
              None of the connected daemons offers this template's provisioner (with matching tags), so the build stays pending until one does
              or the pending timeout fails it. For Terraform templates, install terraform 1.3+ where kiln server runs or start an external daemon.
              See <Link to={paths.provisioners()}>Provisioners</Link>.
            </div>
          </div>
        </div>
      );
    }
    if (matched && matched.available === 0) {
      return (
        <div className="alert alert-warning alert-outcome" role="status" data-testid="build-no-provisioner">
          <div className="alert-body">
            <div className="alert-title">The daemons that can run this build have not been seen recently</div>
            <div className="alert-detail">
              Last seen: {matched.most_recently_seen ? <RelativeTime iso={matched.most_recently_seen} /> : 'never'}. See <Link to={paths.provisioners()}>Provisioners</Link>.
            </div>
          </div>
        </div>
      );
    }
    return (
      <div className="alert alert-info alert-outcome" role="status" data-testid="build-pending">
        <div className="alert-body">
          <div className="alert-title">Waiting for a provisioner daemon{q ? ` — position ${q} in the queue` : ''}</div>
          <div className="alert-detail">
            The build starts when a daemon whose tags match picks it up. See <Link to={paths.provisioners()}>Provisioners</Link>.
          </div>
        </div>
      </div>
    );
  }
  return null;
}

function BuildFacts({ build }: { build: WorkspaceBuild }) {
  const job = build.job;
  return (
    <dl className="facts card">
      <div>
        <dt>Initiated by</dt>
        <dd>{build.initiator_name}</dd>
      </div>
      <div>
        <dt>Reason</dt>
        <dd>{build.reason}</dd>
      </div>
      <div>
        <dt>Template version</dt>
        <dd>{build.template_version_name}</dd>
      </div>
      <div>
        <dt>Queued</dt>
        <dd>
          <RelativeTime iso={job.created_at} />
        </dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>
          <RelativeTime iso={job.started_at} />
        </dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd data-testid="build-duration">
          <JobDuration job={job} />
        </dd>
      </div>
    </dl>
  );
}

function CancelBuildButton({ build, onCanceled }: { build: WorkspaceBuild; onCanceled: () => void }) {
  const [open, setOpen] = useState(false);
  const status = build.job.status;
  if (status !== 'pending' && status !== 'running') return null;
  return (
    <>
      <button type="button" className="btn btn-danger-outline" onClick={() => setOpen(true)}>
        Cancel build
      </button>
      {open && (
        <ConfirmDialog
          title={`Cancel build #${build.build_number}?`}
          confirmLabel="Cancel build"
          dismissLabel="Keep it"
          danger
          onClose={() => setOpen(false)}
          onConfirm={async () => {
            await client.cancelWorkspaceBuild(build.id, { expect_status: status });
            onCanceled();
          }}
        >
          {status === 'pending'
            ? 'The build has not started: it leaves the queue and ends as canceled.'
            : 'The provisioner is told to stop; the build ends as canceled and keeps the log it wrote so far.'}
        </ConfirmDialog>
      )}
    </>
  );
}
