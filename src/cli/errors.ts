import { SdkError } from '../sdk/errors.js';

import { UsageError } from './flags.js';

/** A failure the user should read as a sentence (exit 1): what went wrong, and where useful what to do about it. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly detail?: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Thrown to stop a command with a given exit code after it has already said why. */
export class ExitError extends Error {
  override name = 'ExitError';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export interface FormattedError {
  text: string;
  exitCode: number;
}

/**
 * Turns any error into what the user sees: the server's message, its detail and field validations; a connection
 * failure names the server; never a stack trace.
 */
export function formatError(command: string, e: unknown): FormattedError {
  const prefix = `kiln ${command}`.trim();
  if (e instanceof UsageError) return { text: `${prefix}: ${e.message}\nRun "${prefix} --help" for usage.`, exitCode: 2 };
  if (e instanceof CliError) return { text: [`${prefix}: ${e.message}`, ...indent(e.detail)].join('\n'), exitCode: e.exitCode };
  if (e instanceof SdkError) {
    const lines = [`${prefix}: ${e.response.message}`, ...indent(e.response.detail)];
    for (const v of e.response.validations ?? []) lines.push(`  - ${v.field}: ${v.detail}`);
    if (e.status === 401) lines.push('Your session is missing or has expired: run "kiln login".');
    return { text: lines.join('\n'), exitCode: 1 };
  }
  const conn = connectionFailure(e);
  if (conn) return { text: `${prefix}: ${conn}`, exitCode: 1 };
  return { text: `${prefix}: ${e instanceof Error ? e.message : String(e)}`, exitCode: 1 };
}

function indent(detail: string | undefined): string[] {
  return detail ? detail.split('\n').map((l) => `  ${l}`) : [];
}

/** `fetch` reports a refused connection as "fetch failed" with the reason in `cause`. */
function connectionFailure(e: unknown): string | undefined {
  if (!(e instanceof Error) || e.message !== 'fetch failed') return undefined;
  const cause = (e as { cause?: { code?: string; message?: string; address?: string; port?: number } }).cause;
  const where = cause?.address ? ` at ${cause.address}${cause.port ? `:${cause.port}` : ''}` : '';
  return `could not reach the kiln server${where}: ${cause?.code ?? cause?.message ?? 'connection failed'}`;
}
