import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { checkParameterDeclarations, DeclarationError, unsafeEnvName, type CheckedParameter } from '../../provisionersdk/parameters.js';
import type { App } from '../../provisionersdk/provisioner.js';

import { DEFAULT_LIMITS, type Limits } from './cgroups.js';

/** One agent of a local workspace, as kiln.json declares it (docs/templates.md). */
export interface LocalAgentSpec {
  name: string;
  /** Working directory of the scripts; relative paths and `~` are inside the home. */
  directory?: string;
  env?: Record<string, string>;
  startup_script?: string;
  startup_script_timeout_seconds?: number;
  shutdown_script?: string;
  connection_timeout_seconds?: number;
  apps?: App[];
}

export interface LocalTemplate {
  agents: LocalAgentSpec[];
  metadata: { key: string; value: string; sensitive?: boolean }[];
  /** Legacy parameter name → environment variable every agent gets (`parameters` as an object). */
  parameters: Record<string, string>;
  /**
   * Rich parameters (`parameters` as a list): each one's value is exported to every agent under the parameter's
   * name, which must be a safe environment variable name (see unsafeEnvName).
   */
  richParameters: CheckedParameter[];
  /** `none` (default): the workspace's own loopback only; `outbound`: a user-mode route out (slirp4netns). */
  network: 'none' | 'outbound';
  limits: Limits;
}

/** kiln.json `limits` keys and the field each sets, with what a value must be. */
const LIMIT_KEYS: [key: string, field: keyof Limits, min: number][] = [
  ['memory_mb', 'memoryMb', 64],
  ['pids', 'pids', 16],
  ['cpus', 'cpus', 0.01],
  ['disk_mb', 'diskMb', 1],
];

function readLimits(v: unknown): Limits {
  const out = { ...DEFAULT_LIMITS };
  if (v === undefined) return out;
  if (!isObject(v)) throw new TemplateError('kiln.json: limits must be an object (memory_mb, pids, cpus, disk_mb)');
  for (const k of Object.keys(v)) if (!LIMIT_KEYS.some(([key]) => key === k)) throw new TemplateError(`kiln.json: limits.${k} is not a known limit (memory_mb, pids, cpus, disk_mb)`);
  for (const [key, field, min] of LIMIT_KEYS) {
    const n = v[key];
    if (n === undefined) continue;
    const whole = field !== 'cpus';
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || (whole && !Number.isInteger(n))) {
      throw new TemplateError(`kiln.json: limits.${key} must be ${whole ? 'a whole number' : 'a number'} ≥ ${min}`);
    }
    out[field] = n;
  }
  return out;
}

export class TemplateError extends Error {}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new TemplateError(`${where} must be an object of strings`);
  for (const [k, val] of Object.entries(v)) if (typeof val !== 'string') throw new TemplateError(`${where}.${k} must be a string`);
  return v as Record<string, string>;
}

/** Reads and checks the template's kiln.json; every problem names the field, since a template author reads it. */
export async function readLocalTemplate(dir: string): Promise<LocalTemplate> {
  let raw: string;
  try {
    raw = await readFile(path.join(dir, 'kiln.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TemplateError('the template has no kiln.json (see docs/templates.md)');
    throw e;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (e) {
    throw new TemplateError(`kiln.json is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new TemplateError('kiln.json must hold a JSON object');
  const agents = doc.agents ?? [];
  if (!Array.isArray(agents)) throw new TemplateError('kiln.json: agents must be a list');
  const names = new Set<string>();
  const out: LocalAgentSpec[] = agents.map((a: unknown, i) => {
    if (!isObject(a)) throw new TemplateError(`kiln.json: agents[${i}] must be an object`);
    if (typeof a.name !== 'string' || !NAME.test(a.name)) throw new TemplateError(`kiln.json: agents[${i}].name must be letters, digits, - or _`);
    if (names.has(a.name)) throw new TemplateError(`kiln.json: two agents are named "${a.name}"`);
    names.add(a.name);
    for (const k of ['directory', 'startup_script', 'shutdown_script'] as const) {
      if (a[k] !== undefined && typeof a[k] !== 'string') throw new TemplateError(`kiln.json: agents[${i}].${k} must be a string`);
    }
    for (const k of ['startup_script_timeout_seconds', 'connection_timeout_seconds'] as const) {
      if (a[k] !== undefined && !(Number.isInteger(a[k]) && (a[k] as number) >= 0)) throw new TemplateError(`kiln.json: agents[${i}].${k} must be a whole number ≥ 0`);
    }
    if (a.apps !== undefined && !Array.isArray(a.apps)) throw new TemplateError(`kiln.json: agents[${i}].apps must be a list`);
    return { ...(a as unknown as LocalAgentSpec), env: stringMap(a.env, `agents[${i}].env`) };
  });
  const metadata = doc.metadata ?? [];
  if (!Array.isArray(metadata) || !metadata.every((m) => isObject(m) && typeof m.key === 'string' && typeof (m.value ?? '') === 'string')) {
    throw new TemplateError('kiln.json: metadata must be a list of {key, value}');
  }
  const legacy = Array.isArray(doc.parameters) ? {} : stringMap(doc.parameters, 'parameters');
  for (const envName of Object.values(legacy)) {
    const why = unsafeEnvName(envName);
    if (why) throw new TemplateError(`kiln.json: parameters: ${why}`);
  }
  let richParameters: CheckedParameter[] = [];
  if (Array.isArray(doc.parameters)) {
    try {
      richParameters = checkParameterDeclarations(doc.parameters, 'kiln.json: parameters');
    } catch (e) {
      if (e instanceof DeclarationError) throw new TemplateError(e.message.startsWith('kiln.json') ? e.message : `kiln.json: ${e.message}`);
      throw e;
    }
    for (const p of richParameters) {
      const why = unsafeEnvName(p.name);
      if (why) throw new TemplateError(`kiln.json: parameter ${why}`);
    }
  }
  const network = doc.network ?? 'none';
  if (network !== 'none' && network !== 'outbound') throw new TemplateError('kiln.json: network must be "none" or "outbound"');
  return { agents: out, metadata: metadata as LocalTemplate['metadata'], parameters: legacy, richParameters, network, limits: readLimits(doc.limits) };
}

/** `${NAME}` is replaced from `vars`; an unknown name is left as written, so a typo shows up in the result. */
export function expand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) => vars[name] ?? m);
}
