/**
 * Where a command reads and writes. Commands never touch `process.stdout`/`process.env` directly, so the tests can run
 * `main(argv, io)` in-process with captured output, their own environment and no terminal.
 */
export interface OutStream {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface InStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface CliIO {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Calls `handler` on Ctrl-C instead of letting the process die; returns the function that removes it. */
  onInterrupt(handler: () => void): () => void;
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
  };
}

/** Spinners, cursor movement and redraws only on a terminal; pipes and files get plain lines. */
export function isInteractive(io: CliIO): boolean {
  return io.stdout.isTTY === true && io.env.TERM !== 'dumb';
}

/** Prompts need a person at the keyboard: both ends on a terminal. */
export function canPrompt(io: CliIO): boolean {
  return io.stdin.isTTY === true && io.stdout.isTTY === true;
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off; pipes never get colour. */
export function useColor(io: CliIO): boolean {
  return isInteractive(io) && !io.env.NO_COLOR;
}

export type Style = (s: string) => string;

export interface Styles {
  bold: Style;
  dim: Style;
  red: Style;
  green: Style;
  yellow: Style;
  cyan: Style;
}

const sgr = (open: number, close: number): Style => (s) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain: Style = (s) => s;

export function styles(io: CliIO): Styles {
  if (!useColor(io)) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

export function println(out: OutStream, line = ''): void {
  out.write(`${line}\n`);
}
