// Planning rules shared by every resource, following what Terraform requires of a provider that does not claim the
// legacy type system: a planned value may differ from the configuration only where the schema says "computed", a
// create leaves what only apply can know unknown, an update keeps the prior computed values (Terraform's proposed
// new state already carries them), and a change to a force-new attribute asks for a replacement.
import { type ObjectValue, UNKNOWN, type Value, valuesEqual } from './cty.js';
import { type BlockSpec, nestedType, type NestedBlockSpec } from './schema.js';

type Mode = 'create' | 'update' | 'defaults';

/**
 * Walks a block value and decides each computed attribute the configuration left null: its default when it has one;
 * on create, otherwise unknown. `defaults` fills defaults only (used when upgrading a stored state).
 */
export function fillComputed(block: BlockSpec, value: ObjectValue, mode: Mode): ObjectValue {
  const out: ObjectValue = { ...value };
  for (const [name, a] of Object.entries(block.attributes)) {
    const v = out[name] ?? null;
    if (!a.computed || v !== null) continue;
    if (a.default !== undefined) out[name] = structuredClone(a.default);
    else if (mode === 'create') out[name] = UNKNOWN;
  }
  for (const [name, nb] of Object.entries(block.blocks ?? {})) out[name] = fillNested(nb, out[name] ?? null, mode);
  return out;
}

function fillNested(nb: NestedBlockSpec, v: Value, mode: Mode): Value {
  if (v === null || v === UNKNOWN) return v;
  if (Array.isArray(v)) return v.map((e) => (isObject(e) ? fillComputed(nb.block, e, mode) : e));
  if (isObject(v)) {
    if (nb.nesting === 'map') {
      const out: ObjectValue = {};
      for (const [k, e] of Object.entries(v)) out[k] = isObject(e) ? fillComputed(nb.block, e, mode) : e;
      return out;
    }
    return fillComputed(nb.block, v, mode);
  }
  return v;
}

function isObject(v: Value): v is ObjectValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The top-level attributes and blocks whose change forces a new object: everything the configuration sets (coder's
 * resources mark every argument ForceNew). Computed-only attributes never do.
 */
export function replacePaths(block: BlockSpec, prior: ObjectValue, planned: ObjectValue): string[] {
  const paths: string[] = [];
  for (const [name, a] of Object.entries(block.attributes)) {
    if (a.computed && !a.optional) continue;
    if (!valuesEqual(prior[name] ?? null, planned[name] ?? null, a.type)) paths.push(name);
  }
  for (const [name, nb] of Object.entries(block.blocks ?? {})) {
    if (!valuesEqual(prior[name] ?? null, planned[name] ?? null, nestedType(nb))) paths.push(name);
  }
  return paths;
}
