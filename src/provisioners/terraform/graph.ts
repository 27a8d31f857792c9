/**
 * Which resource depends on which, from Terraform's JSON: a state's `depends_on` lists, or a plan's configuration
 * (expression and provisioner references, `depends_on`). Coder reads the same edges from `terraform graph`; they
 * decide which resource an agent belongs to (the nearest one that references it).
 */

export interface JsonResource {
  address: string;
  mode: 'managed' | 'data';
  type: string;
  name: string;
  index?: number | string;
  values?: Record<string, unknown>;
  depends_on?: string[];
}

export interface JsonModule {
  resources?: JsonResource[];
  child_modules?: (JsonModule & { address?: string })[];
}

interface ConfigResource {
  address: string;
  expressions?: Record<string, unknown>;
  provisioners?: { expressions?: Record<string, unknown> }[];
  depends_on?: string[];
}

export interface ConfigModule {
  resources?: ConfigResource[];
  module_calls?: Record<string, { module?: ConfigModule }>;
}

/** `module.a.aws_instance.dev[0]` → `module.a.aws_instance.dev` (instances of one block share its label). */
export function labelOf(address: string): string {
  return address.replace(/\[[^\]]*\](?=\.|$)/g, '');
}

export function flattenModule(m: JsonModule | undefined): JsonResource[] {
  if (!m) return [];
  return [...(m.resources ?? []), ...(m.child_modules ?? []).flatMap(flattenModule)];
}

/** label → labels it depends on. */
export type DependencyGraph = Map<string, Set<string>>;

function addEdge(g: DependencyGraph, from: string, to: string): void {
  if (from === to) return;
  let s = g.get(from);
  if (!s) g.set(from, (s = new Set()));
  s.add(to);
}

export function graphFromState(resources: JsonResource[]): DependencyGraph {
  const g: DependencyGraph = new Map();
  for (const r of resources) for (const d of r.depends_on ?? []) addEdge(g, labelOf(r.address), labelOf(d));
  return g;
}

/** Every `references` list anywhere under an expression tree (nested blocks hold their own expressions). */
function collectReferences(v: unknown, out: string[]): void {
  if (Array.isArray(v)) for (const x of v) collectReferences(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'references' && Array.isArray(x)) out.push(...x.filter((s): s is string => typeof s === 'string'));
      else collectReferences(x, out);
    }
  }
}

/** The resource a reference names (`coder_agent.main.token` → `coder_agent.main`), or undefined (var., local., …). */
function resolveReference(ref: string, prefix: string, known: Set<string>): string | undefined {
  const parts = labelOf(ref).split('.');
  for (let n = parts.length; n >= 2; n--) {
    const candidate = prefix + parts.slice(0, n).join('.');
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

export function graphFromConfig(root: ConfigModule | undefined, known: Set<string>): DependencyGraph {
  const g: DependencyGraph = new Map();
  const walk = (m: ConfigModule | undefined, prefix: string) => {
    if (!m) return;
    for (const r of m.resources ?? []) {
      const refs: string[] = [...(r.depends_on ?? [])];
      collectReferences(r.expressions, refs);
      for (const p of r.provisioners ?? []) collectReferences(p.expressions, refs);
      for (const ref of refs) {
        const to = resolveReference(ref, prefix, known);
        if (to) addEdge(g, prefix + r.address, to);
      }
    }
    for (const [name, call] of Object.entries(m.module_calls ?? {})) walk(call.module, `${prefix}module.${name}.`);
  };
  walk(root, '');
  return g;
}

/** Labels that depend on `target`, nearest first: `[label, depth]` in breadth-first order (depth 0 = direct). */
export function dependents(g: DependencyGraph, target: string): [string, number][] {
  const reverse = new Map<string, string[]>();
  for (const [from, tos] of g) for (const to of tos) reverse.set(to, [...(reverse.get(to) ?? []), from]);
  const out: [string, number][] = [];
  const seen = new Set([target]);
  let frontier = [target];
  for (let depth = 0; frontier.length; depth++) {
    const next: string[] = [];
    for (const n of frontier) {
      for (const d of reverse.get(n) ?? []) {
        if (seen.has(d)) continue;
        seen.add(d);
        out.push([d, depth]);
        next.push(d);
      }
    }
    frontier = next;
  }
  return out;
}

/** Whether `from` depends on `to`, directly or through others. */
export function dependsOn(g: DependencyGraph, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const n = stack.pop() as string;
    for (const d of g.get(n) ?? []) {
      if (d === to) return true;
      if (!seen.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return false;
}
