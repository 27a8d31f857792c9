// Runs the kiln CLI in-process (main(argv, io)) or as a real process, against a real in-process server.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import type { CliIO, OutStream } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import type { ServerConfig } from '../../src/server/server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'kiln.js');

/** Collects what a command writes, with the time each chunk arrived (to tell live output from a final dump). */
export class Capture implements OutStream {
  readonly chunks: { at: number; data: Buffer }[] = [];
  isTTY = false;
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push({ at: Date.now(), data: Buffer.from(chunk) });
    return true;
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks.map((c) => c.data));
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
  /** When the first chunk containing `s` arrived. */
  firstSeen(s: string): number | undefined {
    let acc = '';
    for (const c of this.chunks) {
      acc += c.data.toString('utf8');
      if (acc.includes(s)) return c.at;
    }
    return undefined;
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: string | Uint8Array;
  cwd?: string;
}

/** Starts `kiln <argv>` in-process; `done` resolves with the exit code and the output. */
export function startCli(argv: string[], opts: CliOptions = {}): { stdout: Capture; stderr: Capture; done: Promise<CliResult> } {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIO = {
    stdout,
    stderr,
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    env: opts.env ?? {},
    cwd: opts.cwd ?? ROOT,
    // Not a terminal: commands never ask about Ctrl-C here.
    onInterrupt: () => () => {},
  };
  const done = main(argv, io).then((code) => ({ code, stdout: stdout.text, stderr: stderr.text, stdoutBytes: stdout.bytes }));
  return { stdout, stderr, done };
}

export function runCli(argv: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(argv, opts).done;
}

/** The real `node bin/kiln.js` (needs dist/, built before the tests): for what only a real process shows. */
export function spawnCli(argv: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, ...argv], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout = new Capture();
  const stderr = new Capture();
  child.stdout.on('data', (d: Buffer) => stdout.write(d));
  child.stderr.on('data', (d: Buffer) => stderr.write(d));
  const exit = new Promise<number>((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, stdout, stderr, exit };
}

/**
 * `kiln` on a pseudo-terminal, through util-linux `script`: what a person at a terminal sees (spinner, colours,
 * Ctrl-C). Write keys to `child.stdin`; the terminal turns Ctrl-C (\x03) into SIGINT.
 */
export function spawnCliInTerminal(argv: string[], env: NodeJS.ProcessEnv) {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  // exec: no shell stays in between to take the terminal's SIGINT (and exit 130) on its own.
  const command = `exec ${[process.execPath, BIN, ...argv].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: ROOT, env: { PATH: process.env.PATH, TERM: 'xterm', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const output = new Capture();
  child.stdout.on('data', (d: Buffer) => output.write(d));
  child.stderr.on('data', (d: Buffer) => output.write(d));
  const exit = new Promise<number>((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, output, exit };
}

export interface CliServer {
  server: TestServer;
  /** A private config dir (XDG_CONFIG_HOME) so no test touches the user's session. */
  configHome: string;
  tmp: string;
  /** The environment of a logged-in owner: KILN_URL + KILN_SESSION_TOKEN. */
  ownerEnv: NodeJS.ProcessEnv;
  orgId: string;
  ownerToken: string;
  close(): Promise<void>;
}

/** A server with an owner, and an environment that points the CLI at it. */
export async function startCliServer(opts: { provisionerDaemons?: number; config?: Partial<ServerConfig> } = {}): Promise<CliServer> {
  const server = await startTestServer({ provisionerDaemons: opts.provisionerDaemons ?? 2, config: opts.config });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-'));
  const configHome = path.join(tmp, 'config');
  const owner = await server.createFirstUser();
  const token = owner.client.token as string;
  return {
    server,
    configHome,
    tmp,
    orgId: owner.organizationId,
    ownerToken: token,
    ownerEnv: { KILN_URL: server.url, KILN_SESSION_TOKEN: token, XDG_CONFIG_HOME: configHome, HOME: tmp },
    async close() {
      await server.close();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
