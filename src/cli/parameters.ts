import { readFile } from 'node:fs/promises';

import type { KilnClient } from '../sdk/client.js';
import { valueProblem } from '../sdk/parameters.js';
import type { TemplateVersionParameter, WorkspaceBuildParameter } from '../sdk/types/parameters.js';
import type { CreateParameterRequest } from '../sdk/types/workspaceBuilds.js';

import type { FlagSpec } from './flags.js';
import { UsageError } from './flags.js';
import { canPrompt, println, styles, type CliIO } from './io.js';
import { ask } from './prompt.js';

export const parameterFlags: FlagSpec[] = [
  { name: 'parameter', type: 'list', placeholder: 'name=value', description: 'A parameter value; repeat for several' },
  { name: 'rich-parameter-file', type: 'string', placeholder: 'file', description: 'Parameter values from a YAML or JSON file (name: value)' },
];

export interface BuildParameters {
  /** Values for the parameters the template version declares. */
  rich: WorkspaceBuildParameter[];
  /** Everything else given with --parameter: legacy parameter values (environment variables of the build). */
  legacy: CreateParameterRequest[];
}

/**
 * The parameter values of a new build: --parameter pairs and --rich-parameter-file, then, at a terminal, a question
 * for each required parameter that still has no value (options as a numbered list; a refused answer is asked again
 * with the reason). Without a terminal a missing required value is a usage error, never a hang.
 */
export async function collectBuildParameters(
  io: CliIO,
  client: KilnClient,
  o: { versionId: string; pairs: string[]; file?: string; previous?: WorkspaceBuildParameter[] },
): Promise<BuildParameters> {
  const given = new Map<string, string>();
  if (o.file) for (const [k, v] of Object.entries(await readParameterFile(o.file))) given.set(k, v);
  for (const pair of o.pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new UsageError(`--parameter needs name=value, got "${pair}"`);
    given.set(pair.slice(0, i), pair.slice(i + 1));
  }
  const declared = await client.templateVersionRichParameters(o.versionId);
  const previous = new Map((o.previous ?? []).map((p) => [p.name, p.value]));
  const rich: WorkspaceBuildParameter[] = [];
  for (const p of declared) {
    let value = given.get(p.name);
    given.delete(p.name);
    if (value === undefined && p.required && !previous.has(p.name)) {
      if (!canPrompt(io)) throw new UsageError(`parameter "${p.name}" needs a value: pass --parameter ${p.name}=<value>`);
      value = await promptParameter(io, p, previous.get(p.name));
      if (value === undefined) throw new UsageError('canceled');
    }
    if (value !== undefined) {
      const problem = valueProblem(p, value, previous.get(p.name));
      if (problem) throw new UsageError(`parameter "${p.name}": ${problem}`);
      rich.push({ name: p.name, value });
    }
  }
  const legacy: CreateParameterRequest[] = [...given].map(([name, value]) => ({
    name,
    source_value: value,
    source_scheme: 'data',
    destination_scheme: 'environment_variable',
  }));
  return { rich, legacy };
}

/** Asks for one parameter until the answer passes the template's checks; undefined on Ctrl-C. */
export async function promptParameter(io: CliIO, p: TemplateVersionParameter, previous?: string): Promise<string | undefined> {
  const st = styles(io);
  println(io.stdout, st.bold(p.display_name || p.name) + (p.description_plaintext ? ` — ${p.description_plaintext}` : ''));
  if (p.options.length) p.options.forEach((opt, i) => println(io.stdout, `  ${i + 1}. ${opt.name}${opt.name !== opt.value ? ` (${opt.value})` : ''}${opt.description ? ` — ${opt.description}` : ''}`));
  const hint = p.options.length ? 'number or value' : p.type === 'bool' ? 'true/false' : p.type === 'list(string)' ? 'JSON list, e.g. ["a","b"]' : p.type;
  for (;;) {
    const raw = await ask(io, `${p.name} (${hint}):`, { default: p.default_value || undefined });
    if (raw === null) return undefined;
    const n = Number(raw);
    const value = p.options.length && Number.isInteger(n) && n >= 1 && n <= p.options.length ? (p.options[n - 1]?.value ?? raw) : raw;
    const problem = valueProblem(p, value, previous);
    if (!problem) return value;
    println(io.stderr, st.red(problem));
  }
}

/**
 * A parameter file: a JSON object, or YAML of the `name: value` form Coder's CLI reads (scalars, flow lists, and block
 * lists of scalars). Values become strings; lists become JSON lists, the `list(string)` form.
 */
export async function readParameterFile(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--rich-parameter-file: cannot read ${file}: ${(e as Error).message}`);
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (e) {
      throw new UsageError(`--rich-parameter-file: ${file} is not valid JSON: ${(e as Error).message}`);
    }
    return Object.fromEntries(Object.entries(doc as Record<string, unknown>).map(([k, v]) => [k, asValue(v)]));
  }
  return parseSimpleYaml(text, file);
}

function asValue(v: unknown): string {
  return typeof v === 'string' ? v : Array.isArray(v) ? JSON.stringify(v.map(String)) : String(v);
}

function parseSimpleYaml(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  let listKey: string | undefined;
  let list: string[] = [];
  const flush = () => {
    if (listKey !== undefined) out[listKey] = JSON.stringify(list);
    listKey = undefined;
    list = [];
  };
  text.split(/\r?\n/).forEach((line, i) => {
    if (/^\s*(#.*)?$/.test(line)) return;
    const item = /^\s+-\s+(.*)$/.exec(line);
    if (item && listKey !== undefined) {
      list.push(unquote(item[1] as string));
      return;
    }
    const m = /^([^\s:#][^:]*):(?:\s+(.*))?$/.exec(line);
    if (!m) throw new UsageError(`--rich-parameter-file: ${file}:${i + 1}: expected "name: value"`);
    flush();
    const key = (m[1] as string).trim();
    const raw = (m[2] ?? '').replace(/\s+#.*$/, '').trim();
    if (raw === '') listKey = key;
    else if (raw.startsWith('[')) {
      try {
        out[key] = asValue(JSON.parse(raw.replace(/'/g, '"')));
      } catch {
        throw new UsageError(`--rich-parameter-file: ${file}:${i + 1}: cannot read the list ${raw}`);
      }
    } else out[key] = unquote(raw);
  });
  flush();
  return out;
}

function unquote(s: string): string {
  const t = s.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  return t;
}
