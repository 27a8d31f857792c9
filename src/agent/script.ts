import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export interface ScriptResult {
  /** Exit code; null when a signal ended the script. */
  code: number | null;
  timedOut: boolean;
  /** Set when the script could not be started at all (no shell, bad directory). */
  error?: string;
}

export interface ScriptOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** 0 = no limit. */
  timeoutMs: number;
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
}

/** Calls `onLine` for every complete line, and for the unterminated tail when the stream ends. */
function lines(stream: Readable, onLine: (l: string) => void): void {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    buf += decoder.write(chunk);
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i).replace(/\r$/, ''));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => {
    buf += decoder.end();
    if (buf) onLine(buf);
    buf = '';
  });
}

/**
 * Runs a script with `sh -c`. The result comes on the shell's exit, not when its output closes: a script that starts
 * a server in the background (`node app.js &`) leaves the pipes open in that server, and must still count as done.
 */
export function runScript(script: string, o: ScriptOptions): Promise<ScriptResult> {
  return new Promise((resolve) => {
    let timedOut = false;
    let done = false;
    const child = spawn('/bin/sh', ['-c', script], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    lines(child.stdout, (l) => o.onLine(l, 'stdout'));
    lines(child.stderr, (l) => o.onLine(l, 'stderr'));
    const timer = o.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), o.timeoutMs) : undefined;
    const finish = (r: ScriptResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Give output already written a moment to arrive, without waiting for pipes a background child keeps open.
      setImmediate(() => resolve(r));
    };
    child.on('error', (e) => finish({ code: null, timedOut: false, error: e.message }));
    child.on('exit', (code) => finish({ code, timedOut }));
  });
}
