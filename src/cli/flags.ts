/**
 * A small flag parser: `--name value`, `--name=value`, boolean `--flag`, short aliases, and an environment fallback
 * `KILN_<NAME_IN_CAPS>` for every flag that declares one.
 */
export interface FlagSpec {
  name: string;
  short?: string;
  description: string;
  type: 'string' | 'boolean' | 'number' | 'list';
  default?: string | boolean | number;
  /** Read `KILN_<NAME>` when the flag is absent. */
  env?: boolean;
  placeholder?: string;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagValues = Record<string, string | boolean | number | string[] | undefined>;

export function envName(flag: string): string {
  return `KILN_${flag.replace(/-/g, '_').toUpperCase()}`;
}

export function parseFlags(argv: string[], specs: FlagSpec[], env: NodeJS.ProcessEnv = process.env): { flags: FlagValues; args: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const flags: FlagValues = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
      spec = byName.get(name);
      if (!spec) throw new UsageError(`unknown flag --${name}`);
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      spec = byShort.get(a.slice(1));
      if (!spec) throw new UsageError(`unknown flag ${a}`);
    } else {
      args.push(a);
      continue;
    }
    if (spec.type === 'boolean') {
      flags[spec.name] = inline === undefined ? true : !['false', '0', 'no'].includes(inline);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`flag --${spec.name} needs a value`);
    setValue(flags, spec, value);
  }
  for (const spec of specs) {
    if (flags[spec.name] !== undefined) continue;
    const fromEnv = spec.env ? env[envName(spec.name)] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') {
      if (spec.type === 'boolean') flags[spec.name] = !['false', '0', 'no'].includes(fromEnv);
      else setValue(flags, spec, fromEnv);
    } else if (spec.default !== undefined) {
      flags[spec.name] = spec.default;
    }
  }
  return { flags, args };
}

function setValue(flags: FlagValues, spec: FlagSpec, value: string): void {
  if (spec.type === 'number') {
    // Number('') is 0: an empty value (`--max-file-size=`) must be refused, not read as zero.
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`flag --${spec.name} needs a number, got "${value}"`);
    flags[spec.name] = n;
  } else if (spec.type === 'list') {
    const prev = flags[spec.name];
    flags[spec.name] = [...(Array.isArray(prev) ? prev : []), value];
  } else {
    flags[spec.name] = value;
  }
}

export function formatFlags(specs: FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'boolean' ? '' : ` <${s.placeholder ?? s.type}>`}`;
    const extra = [s.default !== undefined && s.default !== '' ? `default: ${s.default}` : '', s.env ? `env: ${envName(s.name)}` : ''].filter(Boolean).join(', ');
    return [left, `${s.description}${extra ? ` (${extra})` : ''}`];
  });
  const w = Math.max(...rows.map((r) => r[0]?.length ?? 0));
  return rows.map(([l, r]) => `  ${(l ?? '').padEnd(w)}  ${r}`).join('\n');
}
