import { createHash } from 'node:crypto';

import type { ParameterDeclaration, VariableDeclaration } from '../../provisionersdk/parameters.js';

/**
 * What a Terraform template declares, read from `terraform show -json` of an import's plan (as Coder's provisioner
 * reads them): every `data "coder_parameter"` (the provider has read them while planning, so their attributes are
 * known) and every root-module `variable` block. Pure: the caller runs Terraform.
 */
export function declarationsFromPlan(plan: unknown, supplied: ReadonlySet<string> = new Set()): { parameters: ParameterDeclaration[]; variables: VariableDeclaration[] } {
  const doc = (plan ?? {}) as PlanJson;
  const seen = new Set<string>();
  const parameters: ParameterDeclaration[] = [];
  for (const root of [doc.prior_state?.values?.root_module, doc.planned_values?.root_module]) {
    for (const r of walk(root)) {
      if (r.mode !== 'data' || r.type !== 'coder_parameter' || seen.has(r.address)) continue;
      seen.add(r.address);
      parameters.push(parameterOf(r.values ?? {}));
    }
  }
  const variables: VariableDeclaration[] = Object.entries(doc.configuration?.root_module?.variables ?? {}).map(([name, v]) => {
    // A value the template's own terraform.tfvars (or *.auto.tfvars) gives acts as the default, as in Coder: the plan
    // holds it, and it did not come from the version's variable values.
    const fromVarsFile = supplied.has(name) ? undefined : doc.variables?.[name]?.value;
    const def = v.default ?? fromVarsFile;
    const hasDefault = def !== undefined && def !== null;
    return {
      name,
      description: v.description ?? '',
      type: typeOfDefault(def),
      default_value: hasDefault ? (typeof def === 'string' ? def : JSON.stringify(def)) : null,
      required: !hasDefault,
      sensitive: v.sensitive === true,
    };
  });
  return { parameters, variables };
}

interface PlanResource {
  address: string;
  mode: string;
  type: string;
  values?: Record<string, unknown>;
}
interface PlanModule {
  resources?: PlanResource[];
  child_modules?: PlanModule[];
}
interface PlanJson {
  prior_state?: { values?: { root_module?: PlanModule } };
  planned_values?: { root_module?: PlanModule };
  variables?: Record<string, { value?: unknown }>;
  configuration?: { root_module?: { variables?: Record<string, { default?: unknown; description?: string; sensitive?: boolean }> } };
}

function* walk(m: PlanModule | undefined): Generator<PlanResource> {
  if (!m) return;
  yield* m.resources ?? [];
  for (const c of m.child_modules ?? []) yield* walk(c);
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The provider's attributes in Coder's declaration fields; a null `default` means required, as in Coder. */
function parameterOf(v: Record<string, unknown>): ParameterDeclaration {
  const validation = (Array.isArray(v.validation) ? v.validation[0] : undefined) as Record<string, unknown> | undefined;
  const bound = (key: 'min' | 'max'): number | null => {
    if (!validation) return null;
    if (validation[`${key}_disabled`] === true) return null;
    const n = validation[key];
    return typeof n === 'number' ? n : null;
  };
  const options = Array.isArray(v.option) ? (v.option as Record<string, unknown>[]) : [];
  return {
    name: str(v.name),
    display_name: str(v.display_name),
    description: str(v.description),
    type: (str(v.type) || 'string') as ParameterDeclaration['type'],
    form_type: str(v.form_type),
    mutable: v.mutable === true,
    default_value: v.default === null || v.default === undefined ? null : str(v.default),
    icon: str(v.icon),
    options: options.map((o) => ({ name: str(o.name), value: str(o.value), description: str(o.description), icon: str(o.icon) })),
    validation_regex: str(validation?.regex),
    validation_error: str(validation?.error),
    validation_min: bound('min'),
    validation_max: bound('max'),
    validation_monotonic: (str(validation?.monotonic) || '') as ParameterDeclaration['validation_monotonic'],
    ephemeral: v.ephemeral === true,
    order: typeof v.order === 'number' ? v.order : 0,
  };
}

function typeOfDefault(d: unknown): VariableDeclaration['type'] {
  if (typeof d === 'boolean') return 'bool';
  if (typeof d === 'number') return 'number';
  return 'string';
}

/**
 * The environment that carries a build's parameter values and the version's variables to Terraform: each rich
 * parameter as `CODER_PARAMETER_<hex sha256 of its name>` (what the `coder_parameter` data source reads, as Coder's
 * provisioner sets it) and each variable as `TF_VAR_<name>`.
 */
export function declarationEnv(req: { richParameters?: { name: string; value: string }[]; variables?: { name: string; value: string }[] }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of req.richParameters ?? []) env[`CODER_PARAMETER_${createHash('sha256').update(p.name).digest('hex')}`] = p.value;
  for (const v of req.variables ?? []) env[`TF_VAR_${v.name}`] = v.value;
  return env;
}
