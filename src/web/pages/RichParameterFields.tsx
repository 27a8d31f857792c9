import type { TemplateVersionParameter } from '../sdk.js';
import { valueProblem } from '../sdk.js';

/** The form's values, by parameter name; absent means "not touched" (the server then uses the previous or default). */
export type RichValues = Record<string, string>;

/** What each touched (or required) value would be refused for, by name: checked before sending, as the server will. */
export function richProblems(params: TemplateVersionParameter[], values: RichValues, previous: RichValues = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of params) {
    const v = values[p.name];
    if (v === undefined) {
      if (p.required && previous[p.name] === undefined) out[p.name] = 'A value is required.';
      continue;
    }
    const problem = valueProblem(p, v, previous[p.name]);
    if (problem) out[p.name] = problem;
  }
  return out;
}

/**
 * One field per rich parameter, by type: a select for options, a checkbox for bool, a number input with the template's
 * min/max, a list (one item per line) for list(string), text otherwise. Problems show under each field.
 */
export function RichParameterFields({
  params,
  values,
  onChange,
  problems,
  only,
}: {
  params: TemplateVersionParameter[];
  values: RichValues;
  onChange: (v: RichValues) => void;
  problems: Record<string, string>;
  /** Show only these (e.g. the mutable ones on the workspace page). */
  only?: (p: TemplateVersionParameter) => boolean;
}) {
  const shown = only ? params.filter(only) : params;
  if (shown.length === 0) return null;
  const set = (name: string, v: string) => onChange({ ...values, [name]: v });
  return (
    <fieldset className="field" data-testid="rich-parameters">
      <legend className="field-label">Parameters</legend>
      {shown.map((p) => {
        const id = `param-${p.name}`;
        const value = values[p.name] ?? p.default_value;
        const problem = problems[p.name];
        const label = (
          <span className="field-label">
            {p.display_name || p.name}
            {p.required && <span className="muted"> (required)</span>}
            {!p.mutable && <span className="muted"> · cannot be changed later</span>}
          </span>
        );
        let input;
        if (p.options.length && p.type !== 'list(string)') {
          input = (
            <select id={id} className="input" name={p.name} value={values[p.name] ?? (p.default_value || '')} onChange={(e) => set(p.name, e.target.value)} aria-invalid={!!problem}>
              {!p.default_value && values[p.name] === undefined && <option value="">Choose…</option>}
              {p.options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.name}
                </option>
              ))}
            </select>
          );
        } else if (p.type === 'bool') {
          input = (
            <label className="checkbox">
              <input id={id} type="checkbox" name={p.name} checked={value === 'true'} onChange={(e) => set(p.name, e.target.checked ? 'true' : 'false')} />
              <span>{p.description_plaintext || 'Enabled'}</span>
            </label>
          );
        } else if (p.type === 'number') {
          input = (
            <input
              id={id}
              className="input"
              type="number"
              name={p.name}
              min={p.validation_min}
              max={p.validation_max}
              value={value}
              onChange={(e) => set(p.name, e.target.value)}
              aria-invalid={!!problem}
            />
          );
        } else if (p.type === 'list(string)') {
          const items = safeList(value);
          input = (
            <textarea
              id={id}
              className="input"
              name={p.name}
              rows={3}
              placeholder="one item per line"
              value={items.join('\n')}
              onChange={(e) => set(p.name, JSON.stringify(e.target.value.split('\n').filter((s) => s.trim() !== '')))}
            />
          );
        } else {
          input = <input id={id} className="input" name={p.name} value={value} onChange={(e) => set(p.name, e.target.value)} aria-invalid={!!problem} />;
        }
        return (
          <div className="field" key={p.name} data-param={p.name}>
            <label htmlFor={id}>{label}</label>
            {input}
            {p.description_plaintext && p.type !== 'bool' && <span className="field-hint">{p.description_plaintext}</span>}
            {problem && (
              <span className="field-hint field-hint-error" role="alert" data-testid={`problem-${p.name}`}>
                {problem}
              </span>
            )}
          </div>
        );
      })}
    </fieldset>
  );
}

function safeList(v: string): string[] {
  try {
    const l: unknown = JSON.parse(v);
    return Array.isArray(l) ? l.map(String) : [];
  } catch {
    return [];
  }
}
