import { Link, paths } from '../app/router.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Loading } from '../components/Loading.js';
import { WorkspaceStatusBadge } from '../components/StatusBadge.js';
import { JobDuration, RelativeTime } from '../components/Time.js';
import type { AsyncState } from '../hooks/useAsync.js';
import type { WorkspaceBuild } from '../sdk.js';

export function BuildHistory({ builds, owner, name }: { builds: AsyncState<WorkspaceBuild[]>; owner: string; name: string }) {
  return (
    <section className="card section">
      <h2 className="section-title">Build history</h2>
      {builds.error !== null && <ErrorBanner title="Could not list builds." error={builds.error} onRetry={builds.reload} />}
      {builds.loading ? (
        <Loading label="Loading builds…" />
      ) : !builds.data?.length ? (
        builds.data && <EmptyState title="No builds" />
      ) : (
        <table className="table" data-testid="build-history">
          <thead>
            <tr>
              <th>#</th>
              <th>Transition</th>
              <th>Initiator</th>
              <th>Reason</th>
              <th>Status</th>
              <th>Duration</th>
              <th>Queued</th>
            </tr>
          </thead>
          <tbody>
            {builds.data.map((b) => (
              <tr key={b.id} data-testid="build-row">
                <td>
                  <Link className="strong" to={paths.build(owner, name, b.build_number)}>
                    #{b.build_number}
                  </Link>
                </td>
                <td>{b.transition}</td>
                <td>{b.initiator_name}</td>
                <td>{b.reason}</td>
                <td>
                  <WorkspaceStatusBadge status={b.status} />
                </td>
                <td>
                  <JobDuration job={b.job} />
                </td>
                <td>
                  <RelativeTime iso={b.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
