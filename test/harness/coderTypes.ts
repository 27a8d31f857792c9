import { readFileSync } from 'node:fs';

/** The facts of Coder's wire types per era (test/fixtures/coder-types.json; notation described there). */
interface Era {
  source: string;
  enums: Record<string, string[]>;
  types: Record<string, Record<string, string>>;
}
const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/coder-types.json', import.meta.url), 'utf8')) as { eras: Record<string, Era> };

export type EraName = '2022-12' | 'current';
export const ERAS: EraName[] = ['2022-12', 'current'];

export function eraHasType(era: EraName, type: string): boolean {
  return type in (FIXTURE.eras[era]?.types ?? {});
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Problems of `value` as a `type` of `era`: a required field missing, a value of the wrong kind, an enum value the era
 * does not know, recursively through nested objects. Extra fields are fine (clients of both eras ignore them).
 */
export function conformance(era: EraName, type: string, value: unknown, path = type): string[] {
  const e = FIXTURE.eras[era];
  const spec = e?.types[type];
  if (!e || !spec) return [`${path}: era ${era} has no type ${type}`];
  if (kindOf(value) !== 'object') return [`${path}: expected an object, got ${kindOf(value)}`];
  const obj = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const [field, raw] of Object.entries(spec)) {
    const optional = raw.endsWith('?');
    const [base = '', ...alts] = raw.replace(/\?$/, '').split('|');
    const nullable = alts.includes('null');
    const at = `${path}.${field}`;
    if (!(field in obj) || obj[field] === undefined) {
      if (!optional) problems.push(`${at}: missing`);
      continue;
    }
    const v = obj[field];
    if (v === null) {
      if (!nullable) problems.push(`${at}: null where ${raw} is expected`);
      continue;
    }
    const [kind, arg] = base.split(':') as [string, string | undefined];
    const expect = (k: string) => {
      if (kindOf(v) !== k) problems.push(`${at}: expected ${k}, got ${kindOf(v)}`);
      return kindOf(v) === k;
    };
    const checkEnum = (x: unknown, where: string) => {
      const values = e.enums[arg ?? ''];
      if (!values) problems.push(`${where}: era ${era} has no enum ${arg}`);
      else if (typeof x !== 'string' || !values.includes(x)) problems.push(`${where}: ${JSON.stringify(x)} is not one of ${arg} (${values.join(', ')})`);
    };
    if (kind === 'ref') {
      problems.push(...conformance(era, arg ?? '', v, at));
    } else if (kind === 'ref[]') {
      if (expect('array')) (v as unknown[]).forEach((item, i) => problems.push(...conformance(era, arg ?? '', item, `${at}[${i}]`)));
    } else if (kind === 'enum') {
      checkEnum(v, at);
    } else if (kind === 'enum[]') {
      if (expect('array')) (v as unknown[]).forEach((item, i) => checkEnum(item, `${at}[${i}]`));
    } else if (kind === 'map') {
      if (expect('object')) for (const [k, x] of Object.entries(v as object)) if (typeof x !== arg) problems.push(`${at}.${k}: expected ${arg}`);
    } else if (kind !== 'unknown') {
      expect(kind);
    }
  }
  return problems;
}

/** Problems of `value` against `type` in every era that defines the type. */
export function conformanceAllEras(type: string, value: unknown): string[] {
  return ERAS.filter((era) => eraHasType(era, type)).flatMap((era) => conformance(era, type, value).map((p) => `[${era}] ${p}`));
}
