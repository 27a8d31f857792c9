// Checks on known configuration values (unknown and null values pass: Terraform validates again once they are known).
import type { ObjectValue } from '../cty.js';
import { type Diagnostic, error } from '../types.js';

export function oneOf(config: ObjectValue, name: string, allowed: readonly string[], path: (string | number)[] = []): Diagnostic[] {
  const v = config[name];
  if (typeof v !== 'string' || allowed.includes(v)) return [];
  return [error(`Invalid ${name}`, `expected ${name} to be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(v)}`, [...path, name])];
}

export function atLeast(config: ObjectValue, name: string, min: number): Diagnostic[] {
  const v = config[name];
  if (typeof v !== 'number' || v >= min) return [];
  return [error(`Invalid ${name}`, `expected ${name} to be at least (${min}), got ${v}`, [name])];
}

export function maxLength(config: ObjectValue, name: string, max: number, what: string): Diagnostic[] {
  const v = config[name];
  if (typeof v !== 'string' || v.length <= max) return [];
  return [error(`${what} is too long (max ${max} characters)`, undefined, [name])];
}

/** Arguments that may not be set together (as the original provider's ConflictsWith). */
export function conflicts(config: ObjectValue, name: string, others: readonly string[]): Diagnostic[] {
  if (!isSet(config[name])) return [];
  return others
    .filter((o) => isSet(config[o]))
    .map((o) => error('Conflicting configuration arguments', `"${name}": conflicts with ${o}`, [name]));
}

function isSet(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

export function validUrl(config: ObjectValue, name: string, path: (string | number)[] = []): Diagnostic[] {
  const v = config[name];
  if (typeof v !== 'string' || v === '') return [];
  // The original accepts anything Go's url.Parse accepts, relative paths included; reject only what cannot parse.
  try {
    new URL(v, 'http://placeholder.invalid');
    return [];
  } catch {
    return [error(`Invalid ${name}`, `${JSON.stringify(v)} is not a valid URL`, [...path, name])];
  }
}
