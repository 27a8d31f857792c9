import { useState, type FormEvent } from 'react';

import { Link, navigate, paths, useLocation } from '../app/router.js';
import { useSession } from '../app/session.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Loading, Spinner } from '../components/Loading.js';
import { PageHeader } from '../components/PageHeader.js';
import { useAsync } from '../hooks/useAsync.js';
import { client } from '../lib/client.js';
import type { ParameterDestinationScheme, Template } from '../sdk.js';

import { ParameterRows, type ParameterRow } from './ParameterRows.js';
import { RichParameterFields, richProblems, type RichValues } from './RichParameterFields.js';

/** Coder's workspace name rule; the server checks it too, this only warns early. */
const NAME_PATTERN = /^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/;

export function CreateWorkspacePage() {
  const { organizationId, user } = useSession();
  const { search } = useLocation();
  const templates = useAsync(() => client.templates(organizationId), [organizationId]);
  const [templateName, setTemplateName] = useState(search.get('template') ?? '');
  const [name, setName] = useState('');
  const [params, setParams] = useState<ParameterRow[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const [rich, setRich] = useState<RichValues>({});
  const [checked, setChecked] = useState(false);

  const list = templates.data ?? [];
  const chosen = list.find((t) => t.name === templateName) ?? (list.length === 1 ? list[0] : undefined);
  const declared = useAsync(async () => (chosen ? client.templateVersionRichParameters(chosen.active_version_id) : []), [chosen?.active_version_id]);
  const problems = checked ? richProblems(declared.data ?? [], rich) : {};
  const nameOk = name === '' || (NAME_PATTERN.test(name) && name.length <= 32);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!chosen) return;
    setChecked(true);
    // The same rules the server applies, before sending: a refused value is shown at its field at once.
    if (Object.keys(richProblems(declared.data ?? [], rich)).length) return;
    setBusy(true);
    setError(null);
    try {
      const w = await client.createWorkspace(organizationId, 'me', {
        template_id: chosen.id,
        name,
        parameter_values: params
          .filter((p) => p.name.trim() !== '')
          .map((p) => ({ name: p.name.trim(), source_value: p.value, source_scheme: 'data' as const, destination_scheme: p.destination as ParameterDestinationScheme })),
        rich_parameter_values: Object.entries(rich).map(([n, value]) => ({ name: n, value })),
      });
      // Straight to the first build's live log: the thing a user wants to watch after creating.
      navigate(paths.build(w.owner_name || user.username, w.name, w.latest_build.build_number));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <div className="page page-narrow">
      <PageHeader title="New workspace" crumbs={[{ label: 'Workspaces', to: paths.workspaces() }]} />
      {templates.error !== null && <ErrorBanner title="Could not list templates." error={templates.error} onRetry={templates.reload} />}
      {templates.loading ? (
        <Loading label="Loading templates…" />
      ) : list.length === 0 && templates.data ? (
        <EmptyState
          title="No templates yet"
          action={
            <Link className="btn" to={paths.templates()}>
              Templates
            </Link>
          }
        >
          A workspace is made from a template. Push one with <code>kiln templates push</code>, then come back.
        </EmptyState>
      ) : (
        <form className="form card card-pad" noValidate onSubmit={(e) => void submit(e)}>
          <fieldset className="field">
            <legend className="field-label">Template</legend>
            <div className="choice-list" role="radiogroup">
              {list.map((t) => (
                <TemplateChoice key={t.id} t={t} checked={chosen?.id === t.id} onChoose={() => {
                    setTemplateName(t.name);
                    setRich({});
                    setChecked(false);
                  }} />
              ))}
            </div>
          </fieldset>
          <label className="field">
            <span className="field-label">Workspace name</span>
            <input className="input" name="name" required maxLength={32} value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!nameOk} />
            <span className={nameOk ? 'field-hint' : 'field-hint field-hint-error'}>Letters, digits and single hyphens; at most 32 characters.</span>
          </label>
          <RichParameterFields params={declared.data ?? []} values={rich} onChange={setRich} problems={problems} />
          {(declared.data ?? []).length === 0 && <ParameterRows rows={params} onChange={setParams} />}
          {error !== null && <ErrorBanner title="The workspace was not created." error={error} />}
          <div className="form-actions">
            <Link className="btn" to={paths.workspaces()}>
              Cancel
            </Link>
            <button type="submit" className="btn btn-primary" disabled={busy || !chosen || !name || !nameOk}>
              {busy && <Spinner small />}
              Create workspace
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

function TemplateChoice({ t, checked, onChoose }: { t: Template; checked: boolean; onChoose: () => void }) {
  return (
    <label className={checked ? 'choice choice-checked' : 'choice'}>
      <input type="radio" name="template" value={t.name} checked={checked} onChange={onChoose} />
      <span className="choice-body">
        <span className="choice-title">{t.display_name || t.name}</span>
        <span className="choice-text">{t.description || <span className="muted">{t.name} · {t.provisioner}</span>}</span>
      </span>
    </label>
  );
}
