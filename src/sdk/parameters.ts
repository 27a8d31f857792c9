import type { TemplateVersionParameter } from './types/parameters.js';

/**
 * Coder's rules for a build's rich parameter values, used by the server (authoritative), the CLI (to ask again) and
 * the dashboard (to check before sending). Messages are Coder's, since clients show them as they come.
 */
export class ParameterValueError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = 'ParameterValueError';
  }
}

/**
 * The value a build uses for `p`: the one given, else the previous build's (unless the parameter is ephemeral), else
 * the default. Throws ParameterValueError when the value is refused.
 */
export function resolveParameterValue(p: TemplateVersionParameter, given: string | undefined, previous: string | undefined): string {
  if (!p.mutable && given !== undefined && previous !== undefined && given !== previous) {
    throw new ParameterValueError(p.name, `Parameter ${q(p.name)} is not mutable, so it can't be updated after creating a workspace.`);
  }
  if (p.required && given === undefined && previous === undefined) {
    throw new ParameterValueError(p.name, `Parameter ${q(p.name)} is required but not provided`);
  }
  const resolved = given ?? (p.ephemeral ? undefined : previous) ?? p.default_value;
  const problem = valueProblem(p, resolved, previous);
  if (problem) throw new ParameterValueError(p.name, `can't validate build parameter ${q(p.display_name || p.name)}: ${problem}`);
  return resolved;
}

/** What is wrong with `value` for `p` (its options, type and validation block), or undefined. */
export function valueProblem(p: TemplateVersionParameter, value: string, previous?: string): string | undefined {
  if (p.required && value === '') return 'parameter value is required';
  const current = value === '' ? p.default_value : value;
  if (p.options.length > 0 && !inOptions(p, current)) return `parameter value must match one of options: [${p.options.map((o) => o.value).join(' ')}]`;
  const enabled = !!p.validation_regex || p.validation_min !== undefined || p.validation_max !== undefined || !!p.validation_monotonic || p.type === 'bool' || p.type === 'list(string)';
  if (!enabled) return undefined;
  const rendered = () => (p.validation_error ? p.validation_error.replaceAll('{min}', String(p.validation_min ?? 0)).replaceAll('{max}', String(p.validation_max ?? 0)).replaceAll('{value}', current) : undefined);
  switch (p.type) {
    case 'bool':
      return current === 'true' || current === 'false' ? undefined : 'boolean value can be either "true" or "false"';
    case 'string': {
      if (!p.validation_regex) return undefined;
      let re: RegExp;
      try {
        re = new RegExp(p.validation_regex);
      } catch (e) {
        return `compile regex ${q(p.validation_regex)}: ${(e as Error).message}`;
      }
      if (!p.validation_error) return 'an error must be specified with a regex validation';
      return re.test(current) ? undefined : `${p.validation_error} (value ${q(current)} does not match ${q(p.validation_regex)})`;
    }
    case 'number': {
      // Coder parses with Atoi: whole numbers only.
      if (!/^[+-]?\d+$/.test(current)) return rendered() ?? `value ${q(current)} is not a number`;
      const n = Number(current);
      if (p.validation_min !== undefined && n < p.validation_min) return rendered() ?? `value ${n} is less than the minimum ${p.validation_min}`;
      if (p.validation_max !== undefined && n > p.validation_max) return rendered() ?? `value ${n} is more than the maximum ${p.validation_max}`;
      if (p.validation_monotonic && previous !== undefined && /^[+-]?\d+$/.test(previous)) {
        const prev = Number(previous);
        if (p.validation_monotonic === 'increasing' && n < prev) return `parameter value '${n}' must be equal or greater than previous value: ${prev}`;
        if (p.validation_monotonic === 'decreasing' && n > prev) return `parameter value '${n}' must be equal or lower than previous value: ${prev}`;
      }
      return undefined;
    }
    case 'list(string)':
      return isStringList(current) ? undefined : `value ${q(current)} is not valid list of strings`;
  }
}

function inOptions(p: TemplateVersionParameter, value: string): boolean {
  const values = new Set(p.options.map((o) => o.value));
  if (p.type === 'list(string)' && p.form_type === 'multi-select') {
    try {
      const list: unknown = JSON.parse(value);
      return Array.isArray(list) && list.every((v) => typeof v === 'string' && values.has(v));
    } catch {
      return false;
    }
  }
  return values.has(value);
}

function isStringList(v: string): boolean {
  try {
    const list: unknown = JSON.parse(v);
    return Array.isArray(list) && list.every((s) => typeof s === 'string');
  } catch {
    return false;
  }
}

/** Go's %q for the strings these messages quote. */
function q(s: string): string {
  return JSON.stringify(s);
}
