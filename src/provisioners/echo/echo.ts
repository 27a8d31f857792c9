import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { sleep } from '../../lib/backoff.js';
import { checkParameterDeclarations, checkVariableDeclarations, DeclarationError, type ParameterDeclaration, type VariableDeclaration } from '../../provisionersdk/parameters.js';
import type { Provisioner, ProvisionContext, ProvisionRequest, ProvisionResult } from '../../provisionersdk/provisioner.js';

import { lazyLines, parseEchoScript, type EchoLine, type EchoScript } from './script.js';
import { arrayChunks, topLevelValue } from './topLevelValue.js';

/** A script's lines are parsed this many at a time, as they are written (the provisioner waits for room as often). */
const LINES_PER_CHUNK = 500;

const CANCELED = 'canceled';

/**
 * The echo provisioner: replays the script in the template's `echo.json` for the phase being run. It does no
 * infrastructure work, which makes builds deterministic for tests, demos and benchmarks.
 */
export class EchoProvisioner implements Provisioner {
  /** It reads echo.json and nothing else. */
  readonly inMemory = true;

  async provision(req: ProvisionRequest, ctx: ProvisionContext): Promise<ProvisionResult> {
    const loaded = await loadScript(req);
    if ('result' in loaded) return loaded.result;
    const { script, declared } = loaded;
    const state = script.state !== undefined ? new TextEncoder().encode(script.state) : undefined;
    const canceled = (): ProvisionResult => ({ resources: [], state, error: CANCELED });
    const { signal } = ctx;

    if (script.echo_state) ctx.log('info', `state: ${new TextDecoder().decode(req.state)}`);
    if (script.echo_parameters) {
      const all = [...req.parameters, ...(req.richParameters ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const p of all) ctx.log('info', `param ${p.name}=${p.value}`);
    }
    let i = 0;
    try {
      for (const line of script.logs) {
        if (script.delay_ms > 0) await sleep(script.delay_ms, signal);
        // A long script waits for the daemon to send what it wrote so far, rather than queue every line at once.
        else if (i % 500 === 499) await ctx.room?.();
        i++;
        // Cancel is honoured between lines too, so a long scripted build stops promptly when asked.
        if (signal.aborted) return canceled();
        ctx.log(line.level ?? 'info', line.output, line.stage);
      }
    } catch (e) {
      // A line read during the run (`lazyLines`) that breaks the rules: the script's error, as if found up front.
      if (signal.aborted) return canceled();
      const message = (e as Error).message;
      return { resources: [], error: e instanceof SyntaxError ? `echo.json is not valid JSON: ${message}` : message };
    }
    if (script.hang) {
      await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      return canceled();
    }
    if (script.delay_ms > 0) await sleep(script.delay_ms, signal);
    if (signal.aborted) return canceled();
    if (script.error) return { resources: [], state, error: script.error };
    return { resources: script.resources, state, ...declared };
  }
}

/** echo.json from the files handed over in memory, else from the directory (a missing file: ENOENT either way). */
async function readEchoJson(req: ProvisionRequest): Promise<Buffer> {
  if (!req.files) return readFile(path.join(req.directory, 'echo.json'));
  const bytes = req.files.get('echo.json');
  if (!bytes) throw Object.assign(new Error('echo.json: no such file'), { code: 'ENOENT' });
  // A copy, not a view of the server's cached archive: measured with a 200,000-line script, reading through a view
  // raised the server's peak RSS from ~180 to ~208 MB. The copy is memory V8 is told about; without it, nothing new
  // appears to be in use while the lines' garbage piles up, and the old generation grows longer before a full GC.
  return Buffer.from(bytes);
}

/**
 * The phase's script from the template's echo.json, or the result to report at once. Its own function so that the
 * parsed document is garbage once the phase's script was taken from it. A build parses only its phase's value
 * (`topLevelValue`); an import parses the whole document, so one that is not JSON fails the template's import.
 */
async function loadScript(req: ProvisionRequest): Promise<{ result: ProvisionResult } | { script: EchoScript; declared: Pick<ProvisionResult, 'parameters' | 'variables'> }> {
  let doc: unknown;
  let lines: Iterable<EchoLine> | undefined;
  try {
    const bytes = await readEchoJson(req);
    const span = req.phase === 'import' ? undefined : topLevelValue(bytes, req.phase);
    if (span === null) return { result: { resources: [] } };
    if (span) {
      const phase = bytes.subarray(span.start, span.end);
      const logs = phase[0] === 0x7b ? topLevelValue(phase, 'logs') : undefined;
      if (logs && phase[logs.start] === 0x5b) {
        // The phase without its lines, parsed now; the lines, parsed a chunk at a time while they are written.
        doc = { [req.phase]: JSON.parse(`${phase.toString('utf8', 0, logs.start)}null${phase.toString('utf8', logs.end)}`) };
        lines = lazyLines(arrayChunks(phase, logs, LINES_PER_CHUNK), req.phase);
      } else {
        doc = { [req.phase]: JSON.parse(phase.toString('utf8')) };
      }
    } else {
      doc = JSON.parse(bytes.toString('utf8'));
    }
  } catch (e) {
    // No script at all means "succeed at once"; a script that is there but unreadable is the template's bug.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { result: { resources: [] } };
    return { result: { resources: [], error: `echo.json is not valid JSON: ${(e as Error).message}` } };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { result: { resources: [], error: 'echo.json must hold a JSON object' } };
  // An import reports the declared rich parameters and variables, whatever its script does.
  const declared: Pick<ProvisionResult, 'parameters' | 'variables'> = {};
  if (req.phase === 'import') {
    try {
      const d = doc as Record<string, unknown>;
      checkParameterDeclarations(d.parameters, 'echo.json: parameters');
      checkVariableDeclarations(d.variables);
      if (d.parameters) declared.parameters = d.parameters as ParameterDeclaration[];
      if (d.variables) declared.variables = d.variables as VariableDeclaration[];
    } catch (e) {
      if (e instanceof DeclarationError) return { result: { resources: [], error: `echo.json: ${e.message.replace(/^echo\.json: /, '')}` } };
      throw e;
    }
  }
  const raw = (doc as Record<string, unknown>)[req.phase];
  if (raw === undefined || raw === null) return { result: { resources: [], ...declared } };
  try {
    const script = parseEchoScript(raw, req.phase);
    return { script: lines ? { ...script, logs: lines } : script, declared };
  } catch (e) {
    return { result: { resources: [], error: (e as Error).message } };
  }
}
