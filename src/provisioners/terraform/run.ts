import { spawn } from 'node:child_process';

export interface RunOptions {
  terraform: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Aborting sends SIGINT (Terraform stops gracefully and writes its state); SIGKILL follows after `graceMs`. */
  signal?: AbortSignal;
  graceMs: number;
  /** Each complete line of stdout, in order; never called with a partial or merged line. */
  onStdout?: (line: string) => void;
  onStderr?: (line: string) => void;
  /** Keep stdout whole instead of streaming it (for `show -json`). */
  captureStdout?: boolean;
}

export interface RunResult {
  code: number | null;
  /** Set when the process ended on a signal (SIGKILL after the grace period, for one). */
  signal: NodeJS.Signals | null;
  killed: boolean;
  stdout: string;
}

/** Splits a byte stream into lines, carrying a partial line over to the next chunk; `end` flushes the remainder. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  let rest = '';
  const decoder = new TextDecoder();
  return {
    push(chunk) {
      const text = rest + decoder.decode(chunk, { stream: true });
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l.endsWith('\r') ? l.slice(0, -1) : l);
    },
    end() {
      const last = rest + decoder.decode();
      rest = '';
      if (last) onLine(last);
    },
  };
}

/** Runs one terraform command to its end. Spawn failures reject; a non-zero exit resolves (the caller reads `code`). */
export function runTerraform(o: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.terraform, o.args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let killed = false;
    let killTimer: NodeJS.Timeout | undefined;
    const out = lineSplitter((l) => o.onStdout?.(l));
    const err = lineSplitter((l) => o.onStderr?.(l));
    child.stdout.on('data', (c: Buffer) => (o.captureStdout ? (stdout += c.toString('utf8')) : out.push(c)));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const onAbort = () => {
      child.kill('SIGINT');
      killTimer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, o.graceMs);
    };
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => {
      o.signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      reject(e);
    });
    // 'close' (not 'exit') fires once both pipes are drained: no line is lost.
    child.once('close', (code, signal) => {
      o.signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      out.end();
      err.end();
      resolve({ code, signal, killed, stdout });
    });
  });
}
