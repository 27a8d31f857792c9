import { useState, type FormEvent } from 'react';

import { ErrorBanner } from '../components/ErrorBanner.js';
import { Spinner } from '../components/Loading.js';
import { useAsync } from '../hooks/useAsync.js';
import { client } from '../lib/client.js';
import { isTransitional } from '../lib/status.js';
import type { Workspace, WorkspaceBuild } from '../sdk.js';

import { RichParameterFields, richProblems, type RichValues } from './RichParameterFields.js';

/**
 * The parameter values the latest build used, and a form for the mutable ones: saving starts a new build with the
 * changed values (the others carry over on the server).
 */
export function WorkspaceParameters({ w, onBuild }: { w: Workspace; onBuild: (b: WorkspaceBuild, action: string) => void }) {
  const latest = w.latest_build;
  const data = useAsync(
    async () => {
      const [values, declared] = await Promise.all([client.workspaceBuildParameters(latest.id), client.templateVersionRichParameters(latest.template_version_id)]);
      return { values, declared };
    },
    [latest.id, latest.template_version_id],
  );
  const [editing, setEditing] = useState(false);
  const [changes, setChanges] = useState<RichValues>({});
  const [checked, setChecked] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const values = data.data?.values ?? [];
  const declared = data.data?.declared ?? [];
  if (values.length === 0) return null;
  const previous = Object.fromEntries(values.map((v) => [v.name, v.value]));
  const mutable = declared.filter((p) => p.mutable);
  const problems = checked ? richProblems(declared, changes, previous) : {};

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setChecked(true);
    if (Object.keys(richProblems(declared, changes, previous)).length) return;
    setBusy(true);
    setError(null);
    try {
      const b = await client.createWorkspaceBuild(w.id, {
        transition: 'start',
        rich_parameter_values: Object.entries(changes).map(([name, value]) => ({ name, value })),
      });
      setEditing(false);
      setChanges({});
      onBuild(b, 'start');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card section" data-testid="workspace-parameters">
      <div className="section-head">
        <h2 className="section-title">Parameters</h2>
        {!w.deleted && mutable.length > 0 && !editing && (
          <button type="button" className="btn btn-small" disabled={isTransitional(latest.status)} onClick={() => setEditing(true)}>
            Change parameters
          </button>
        )}
      </div>
      {!editing ? (
        <dl className="kv section-pad">
          {values.map((v) => {
            const p = declared.find((d) => d.name === v.name);
            return (
              <div key={v.name} className="kv-row">
                <dt>{p?.display_name || v.name}</dt>
                <dd data-param-value={v.name}>{v.value === '' ? <span className="muted">(empty)</span> : v.value}</dd>
              </div>
            );
          })}
        </dl>
      ) : (
        <form className="form section-pad" noValidate onSubmit={(e) => void submit(e)}>
          <RichParameterFields params={declared} values={{ ...previous, ...changes }} onChange={(all) => setChanges(diff(all, previous))} problems={problems} only={(p) => p.mutable} />
          {error !== null && <ErrorBanner title="The workspace was not started with these values." error={error} />}
          <div className="form-actions">
            <button type="button" className="btn" onClick={() => (setEditing(false), setChanges({}), setChecked(false))}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy && <Spinner small />}
              Start with these values
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function diff(all: RichValues, previous: RichValues): RichValues {
  return Object.fromEntries(Object.entries(all).filter(([k, v]) => previous[k] !== v));
}
