export interface ParameterRow {
  name: string;
  value: string;
  destination: 'environment_variable' | 'provisioner_variable';
}

/**
 * Legacy (Dec-2022 Coder) parameter values: name, value and where the provisioner receives it. Templates of that era
 * declare no schema kiln could read, so the rows are free-form.
 */
export function ParameterRows({ rows, onChange }: { rows: ParameterRow[]; onChange: (rows: ParameterRow[]) => void }) {
  const update = (i: number, patch: Partial<ParameterRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="field">
      <legend className="field-label">Parameters</legend>
      <span className="field-hint">Optional values the template reads, as environment or provisioner variables.</span>
      {rows.map((r, i) => (
        <div className="param-row" key={i}>
          <input className="input" placeholder="name" aria-label={`Parameter ${i + 1} name`} value={r.name} onChange={(e) => update(i, { name: e.target.value })} />
          <input className="input" placeholder="value" aria-label={`Parameter ${i + 1} value`} value={r.value} onChange={(e) => update(i, { value: e.target.value })} />
          <select
            className="input"
            aria-label={`Parameter ${i + 1} destination`}
            value={r.destination}
            onChange={(e) => update(i, { destination: e.target.value as ParameterRow['destination'] })}
          >
            <option value="environment_variable">environment variable</option>
            <option value="provisioner_variable">provisioner variable</option>
          </select>
          <button type="button" className="btn btn-ghost btn-small" aria-label={`Remove parameter ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <div>
        <button type="button" className="btn btn-small" onClick={() => onChange([...rows, { name: '', value: '', destination: 'environment_variable' }])}>
          Add parameter
        </button>
      </div>
    </fieldset>
  );
}
