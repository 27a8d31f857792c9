import { useState } from 'react';

import { Link, paths } from '../app/router.js';
import { useSession } from '../app/session.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Loading } from '../components/Loading.js';
import { PageHeader } from '../components/PageHeader.js';
import { JobStatusBadge } from '../components/StatusBadge.js';
import { JobDuration, RelativeTime } from '../components/Time.js';
import { useAsync } from '../hooks/useAsync.js';
import { useInterval } from '../hooks/useInterval.js';
import { client } from '../lib/client.js';
import { isJobActive } from '../lib/status.js';
import type { Template, TemplateVersion } from '../sdk.js';

import { VersionLog } from './VersionLog.js';

const POLL_MS = 3000;

export function TemplatePage({ name }: { name: string }) {
  const { organizationId } = useSession();
  const tpl = useAsync(() => client.templateByName(organizationId, name), [organizationId, name]);
  const t = tpl.data;
  const versions = useAsync(async () => (t ? (await client.templateVersions(t.id)).sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at)) : []), [t?.id]);
  const importing = (versions.data ?? []).some((v) => isJobActive(v.job.status));
  useInterval(versions.reload, importing ? POLL_MS : null);

  if (tpl.loading) return <Loading label="Loading template…" />;
  if (!t) {
    return (
      <div className="page">
        <PageHeader title={name} crumbs={[{ label: 'Templates', to: paths.templates() }]} />
        <ErrorBanner title="Could not load this template." error={tpl.error} onRetry={tpl.reload} />
      </div>
    );
  }

  return (
    <div className="page">
      <PageHeader
        crumbs={[{ label: 'Templates', to: paths.templates() }]}
        title={t.display_name || t.name}
        meta={
          <>
            <span>{t.name}</span>
            <span>provisioner {t.provisioner}</span>
            <span>created by {t.created_by_name}</span>
            <span>{t.allow_user_cancel_workspace_jobs ? 'users may cancel their builds' : 'only owners cancel builds'}</span>
          </>
        }
        actions={
          <Link className="btn btn-primary" to={paths.newWorkspace(t.name)}>
            Create workspace
          </Link>
        }
      />
      {t.description && <p className="lead">{t.description}</p>}
      <section className="card section">
        <h2 className="section-title">Versions</h2>
        {versions.error !== null && <ErrorBanner title="Could not list versions." error={versions.error} onRetry={versions.reload} />}
        {versions.loading ? (
          <Loading label="Loading versions…" />
        ) : !versions.data?.length ? (
          versions.data && <EmptyState title="No versions" />
        ) : (
          <ul className="version-list" data-testid="versions">
            {versions.data.map((v) => (
              <VersionItem key={v.id} t={t} v={v} onPromoted={tpl.reload} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function VersionItem({ t, v, onPromoted }: { t: Template; v: TemplateVersion; onPromoted: () => void }) {
  const active = v.id === t.active_version_id;
  const [open, setOpen] = useState(active || isJobActive(v.job.status));
  const [promoting, setPromoting] = useState(false);
  return (
    <li className="version" data-testid="version" data-name={v.name}>
      <div className="version-head">
        <button type="button" className="version-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
          <svg className={open ? 'chevron chevron-open' : 'chevron'} viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <path d="M6 3.5 10.5 8 6 12.5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          <span className="strong">{v.name}</span>
        </button>
        {active && <span className="pill pill-accent">active</span>}
        <JobStatusBadge status={v.job.status} />
        <span className="muted small">
          by {v.created_by.username} · <RelativeTime iso={v.created_at} /> · import <JobDuration job={v.job} />
        </span>
        <span className="spacer" />
        {!active && v.job.status === 'succeeded' && (
          <button type="button" className="btn btn-small" onClick={() => setPromoting(true)}>
            Make active
          </button>
        )}
      </div>
      {v.job.status === 'failed' && v.job.error && <pre className="alert-pre alert-inline">{v.job.error}</pre>}
      {open && <VersionLog v={v} />}
      {promoting && (
        <ConfirmDialog
          title={`Make ${v.name} the active version?`}
          confirmLabel="Make active"
          onClose={() => setPromoting(false)}
          onConfirm={async () => {
            await client.setActiveTemplateVersion(t.id, v.id);
            onPromoted();
          }}
        >
          New workspaces of {t.display_name || t.name} are built from the active version; existing ones show as outdated.
        </ConfirmDialog>
      )}
    </li>
  );
}
