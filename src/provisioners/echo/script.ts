import type { LogLevel, Resource } from '../../provisionersdk/provisioner.js';

/** One line of a script; `level` defaults to info. */
export interface EchoLine {
  level?: LogLevel;
  stage?: string;
  output: string;
}

/** One phase's script in echo.json (see docs: the echo provisioner). */
export interface EchoScript {
  /** In order. Lines read while the job runs (`lazyLines`) are checked as they come: a broken one throws then. */
  logs: Iterable<EchoLine>;
  delay_ms: number;
  resources: Resource[];
  state?: string;
  error?: string;
  hang: boolean;
  echo_state: boolean;
  echo_parameters: boolean;
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

/**
 * Checks a script's shape and fills defaults. Resource contents are checked by the server when the job completes
 * (the same rules apply to every provisioner), so here a resource only needs a name and a type.
 */
export function parseEchoScript(raw: unknown, where: string): EchoScript {
  const fail = (msg: string): never => {
    throw new Error(`echo.json: ${where}${msg}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(' must be an object');
  const s = raw as Record<string, unknown>;
  const bool = (k: string): boolean => {
    if (s[k] === undefined) return false;
    if (typeof s[k] !== 'boolean') fail(`.${k} must be a boolean`);
    return s[k] as boolean;
  };
  const optString = (k: string): string | undefined => {
    if (s[k] === undefined || s[k] === null) return undefined;
    if (typeof s[k] !== 'string') fail(`.${k} must be a string`);
    return s[k] as string;
  };
  const delay = s.delay_ms ?? 0;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0) fail('.delay_ms must be an integer ≥ 0');
  const logsRaw = s.logs ?? [];
  if (!Array.isArray(logsRaw)) fail('.logs must be an array');
  // Checked in place, not copied: a script may hold hundreds of thousands of lines, kept until the job ends.
  (logsRaw as unknown[]).forEach((l, i) => checkLine(l, i, fail));
  const logs = logsRaw as EchoLine[];
  const resRaw = s.resources ?? [];
  if (!Array.isArray(resRaw)) fail('.resources must be an array');
  (resRaw as unknown[]).forEach((r, i) => {
    const res = r as Record<string, unknown> | null;
    if (typeof res !== 'object' || res === null || typeof res.name !== 'string' || typeof res.type !== 'string') {
      fail(`.resources[${i}] needs a string "name" and "type"`);
    }
  });
  return {
    logs,
    delay_ms: delay as number,
    resources: resRaw as Resource[],
    state: optString('state'),
    error: optString('error'),
    hang: bool('hang'),
    echo_state: bool('echo_state'),
    echo_parameters: bool('echo_parameters'),
  };
}

function checkLine(l: unknown, i: number, fail: (msg: string) => never): EchoLine {
  if (typeof l !== 'object' || l === null) return fail(`.logs[${i}] must be an object`);
  const line = l as Record<string, unknown>;
  if (typeof line.output !== 'string') fail(`.logs[${i}].output must be a string`);
  if (line.level !== undefined && (typeof line.level !== 'string' || !LEVELS.has(line.level))) fail(`.logs[${i}].level must be one of trace, debug, info, warn, error`);
  if (line.stage !== undefined && typeof line.stage !== 'string') fail(`.logs[${i}].stage must be a string`);
  return line as unknown as EchoLine;
}

/** A script's lines from chunks of parsed elements (`arrayChunks`), each checked as it is reached. */
export function* lazyLines(chunks: Iterable<unknown[]>, where: string): Generator<EchoLine> {
  const fail = (msg: string): never => {
    throw new Error(`echo.json: ${where}${msg}`);
  };
  let i = 0;
  for (const chunk of chunks) for (const l of chunk) yield checkLine(l, i++, fail);
}
