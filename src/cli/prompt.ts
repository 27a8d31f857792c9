import readline from 'node:readline';

import type { CliIO } from './io.js';

/**
 * Asks one question on the terminal. Resolves with the answer, or null when the user pressed Ctrl-C or closed the
 * input. Callers check `canPrompt(io)` first: prompting a pipe would hang a script.
 */
export function ask(io: CliIO, question: string, opts: { secret?: boolean; default?: string } = {}): Promise<string | null> {
  // "Username:" with a default reads "Username (alice): ".
  const label = opts.default ? `${question.replace(/:?$/, ` (${opts.default}):`)} ` : `${question} `;
  const answer = opts.secret && io.stdin.setRawMode ? readSecret(io, label) : readLine(io, label);
  return answer.then((a) => (a === null ? null : a.trim() || opts.default || ''));
}

export async function confirm(io: CliIO, question: string): Promise<boolean | null> {
  const a = await ask(io, `${question} [y/N]`);
  return a === null ? null : /^y(es)?$/i.test(a);
}

function readLine(io: CliIO, label: string): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: io.stdin, output: io.stdout as NodeJS.WritableStream, terminal: io.stdin.isTTY === true });
    let done = false;
    const finish = (v: string | null) => {
      if (done) return;
      done = true;
      rl.close();
      resolve(v);
    };
    rl.on('SIGINT', () => {
      io.stdout.write('\n');
      finish(null);
    });
    rl.on('close', () => finish(null));
    rl.question(label, (a) => finish(a));
  });
}

/** Reads a password without echoing it: raw mode, one key at a time, backspace honoured. */
function readSecret(io: CliIO, label: string): Promise<string | null> {
  return new Promise((resolve) => {
    const stdin = io.stdin;
    io.stdout.write(label);
    stdin.setRawMode?.(true);
    stdin.resume();
    let value = '';
    const finish = (v: string | null) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stdout.write('\n');
      resolve(v);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(value);
        if (ch === '\u0003' || ch === '\u0004') return finish(null);
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
