import { Link } from '../app/router.js';
import { useSession } from '../app/session.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Loading } from '../components/Loading.js';
import { PageHeader } from '../components/PageHeader.js';
import { Badge, JobStatusBadge } from '../components/StatusBadge.js';
import { Tags } from '../components/Tags.js';
import { RelativeTime } from '../components/Time.js';
import { useAsync } from '../hooks/useAsync.js';
import { useInterval } from '../hooks/useInterval.js';
import { client } from '../lib/client.js';
import { loadPendingJobs, type PendingJob } from '../lib/pendingJobs.js';
import type { ProvisionerDaemon, ProvisionerJob } from '../sdk.js';

const POLL_MS = 3000;
const JOBS_SHOWN = 25;

export function ProvisionersPage() {
  const { organizationId } = useSession();
  const daemons = useAsync(() => client.provisionerDaemons(organizationId), [organizationId]);
  const pending = useAsync(() => loadPendingJobs(organizationId), [organizationId]);
  const jobs = useAsync(() => client.provisionerJobs(organizationId, { limit: JOBS_SHOWN }), [organizationId]);
  useInterval(() => {
    daemons.reload();
    pending.reload();
    jobs.reload();
  }, POLL_MS);

  return (
    <div className="page">
      <PageHeader title="Provisioners" meta={<span>Daemons run builds and template imports, one job each at a time.</span>} />
      <section className="card section">
        <h2 className="section-title">Daemons</h2>
        {daemons.error !== null && <ErrorBanner title="Could not list provisioner daemons." error={daemons.error} onRetry={daemons.reload} />}
        {daemons.loading ? <Loading label="Loading daemons…" /> : daemons.data && <DaemonTable daemons={daemons.data} />}
      </section>
      <section className="card section">
        <h2 className="section-title">Pending jobs</h2>
        {pending.error !== null && <ErrorBanner title="Could not list pending jobs." error={pending.error} onRetry={pending.reload} />}
        {pending.loading ? <Loading label="Loading the queue…" /> : pending.data && <PendingTable jobs={pending.data} />}
      </section>
      <section className="card section">
        <h2 className="section-title">Recent jobs</h2>
        {jobs.error !== null && <ErrorBanner title="Could not list provisioner jobs." error={jobs.error} onRetry={jobs.reload} />}
        {jobs.loading ? <Loading label="Loading jobs…" /> : jobs.data && <JobTable jobs={jobs.data} daemons={daemons.data ?? []} />}
      </section>
    </div>
  );
}

function DaemonTable({ daemons }: { daemons: ProvisionerDaemon[] }) {
  if (!daemons.length) {
    return (
      <EmptyState title="No provisioner daemons">
        Builds stay pending until a daemon can take them. <code>kiln server</code> runs built-in daemons (
        <code>--provisioner-daemons</code>); external ones join with <code>kiln provisionerd start</code>.
      </EmptyState>
    );
  }
  return (
    <table className="table" data-testid="daemons-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Provisioners</th>
          <th>Tags</th>
          <th>Key</th>
          <th>State</th>
          <th>Current / previous job</th>
          <th>Version</th>
          <th>Last seen</th>
        </tr>
      </thead>
      <tbody>
        {daemons.map((d) => (
          <tr key={d.id}>
            <td className="strong">{d.name}</td>
            <td>{d.provisioners.join(', ')}</td>
            <td>
              <Tags tags={d.tags} />
            </td>
            <td>{d.key_name ?? ''}</td>
            <td>
              <DaemonStatus status={d.status ?? (d.current_job_id ? 'busy' : 'idle')} />
            </td>
            <td>
              <DaemonJob daemon={d} />
            </td>
            <td>
              {d.version}
              {d.api_version && <div className="muted small">protocol {d.api_version}</div>}
            </td>
            <td>
              <RelativeTime iso={d.last_seen_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PendingTable({ jobs }: { jobs: PendingJob[] }) {
  if (!jobs.length) return <EmptyState title="Nothing is waiting">Every job has been picked up by a daemon.</EmptyState>;
  return (
    <table className="table" data-testid="pending-jobs">
      <thead>
        <tr>
          <th>Position</th>
          <th>Job</th>
          <th>Tags</th>
          <th>Queued</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.job.id}>
            <td className="num">{j.job.queue_position ? `${j.job.queue_position}${j.job.queue_size ? ` of ${j.job.queue_size}` : ''}` : '—'}</td>
            <td>
              <Link to={j.link}>{j.label}</Link>
              <div className="muted small">{j.kind}</div>
            </td>
            <td>
              <Tags tags={j.job.tags} />
            </td>
            <td>
              <RelativeTime iso={j.job.created_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DaemonStatus({ status }: { status: 'idle' | 'busy' | 'offline' }) {
  if (status === 'busy') return <Badge tone="info" active>busy</Badge>;
  if (status === 'offline') return <Badge tone="neutral">offline</Badge>;
  return <Badge tone="neutral">idle</Badge>;
}

function DaemonJob({ daemon }: { daemon: ProvisionerDaemon }) {
  const job = daemon.current_job ?? daemon.previous_job;
  if (!job) return <span className="muted">—</span>;
  return (
    <span>
      <JobStatusBadge status={job.status} /> {job.template_display_name || job.template_name || job.id.slice(0, 8)}
      {!daemon.current_job && <div className="muted small">previous</div>}
    </span>
  );
}

/** The organization's newest jobs as GET …/provisionerjobs returns them, with the daemon that ran each. */
function JobTable({ jobs, daemons }: { jobs: ProvisionerJob[]; daemons: ProvisionerDaemon[] }) {
  if (!jobs.length) return <EmptyState title="No jobs yet">Builds and template imports show here once they are queued.</EmptyState>;
  const names = new Map(daemons.map((d) => [d.id, d.name]));
  return (
    <table className="table" data-testid="jobs-table">
      <thead>
        <tr>
          <th>Job</th>
          <th>Status</th>
          <th>Tags</th>
          <th>Daemon</th>
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id}>
            <td className="mono small">
              {j.id.slice(0, 8)}
              {j.error && <div className="muted small">{j.error}</div>}
            </td>
            <td>
              <JobStatusBadge status={j.status} />
            </td>
            <td>
              <Tags tags={j.tags} />
            </td>
            <td>{j.worker_id ? (names.get(j.worker_id) ?? j.worker_id.slice(0, 8)) : '—'}</td>
            <td>
              <RelativeTime iso={j.created_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
