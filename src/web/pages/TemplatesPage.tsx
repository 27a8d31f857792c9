import { Link, paths } from '../app/router.js';
import { useSession } from '../app/session.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Loading } from '../components/Loading.js';
import { PageHeader } from '../components/PageHeader.js';
import { RelativeTime } from '../components/Time.js';
import { useAsync } from '../hooks/useAsync.js';
import { client } from '../lib/client.js';
import { formatDuration } from '../lib/format.js';
import type { Template } from '../sdk.js';

export function TemplatesPage() {
  const { organizationId } = useSession();
  const templates = useAsync(() => client.templates(organizationId), [organizationId]);
  return (
    <div className="page">
      <PageHeader title="Templates" />
      {templates.error !== null && <ErrorBanner title="Could not list templates." error={templates.error} onRetry={templates.reload} />}
      {templates.loading ? (
        <Loading label="Loading templates…" />
      ) : !templates.data?.length ? (
        templates.data && (
          <EmptyState title="No templates yet">
            Templates define what a workspace is. Create one from a directory with <code>kiln templates push</code>; start from{' '}
            <code>kiln templates init</code>.
          </EmptyState>
        )
      ) : (
        <div className="card table-card">
          <table className="table" data-testid="templates-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Provisioner</th>
                <th>Workspace owners</th>
                <th>Typical start</th>
                <th>Created by</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {templates.data.map((t) => (
                <TemplateRow key={t.id} t={t} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function TemplateRow({ t }: { t: Template }) {
  const p50 = t.build_time_stats.start?.P50;
  return (
    <tr>
      <td>
        <Link className="strong" to={paths.template(t.name)}>
          {t.display_name || t.name}
        </Link>
        {t.description && <div className="muted small">{t.description}</div>}
      </td>
      <td>{t.provisioner}</td>
      <td className="num">{t.workspace_owner_count}</td>
      <td className="num">{p50 === null || p50 === undefined ? <span className="muted">—</span> : formatDuration(p50)}</td>
      <td>{t.created_by_name}</td>
      <td>
        <RelativeTime iso={t.updated_at} />
      </td>
    </tr>
  );
}
