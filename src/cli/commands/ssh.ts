import type { Duplex } from 'node:stream';

import ssh2 from 'ssh2';

import { dialAgentStream } from '../../sdk/agentStreams.js';
import { findAgent } from '../agentTarget.js';
import { parseCommand, stringFlag, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import type { CliIO } from '../io.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln ssh <workspace>[.<agent>] [-- <command>...] [flags]',
  summary: 'Open a shell in a workspace, or run a command there',
  description:
    'The SSH connection is carried through the kiln server to the workspace agent; nothing of the workspace listens on a ' +
    "network port. A command's arguments are joined with spaces and run by the workspace's shell, as OpenSSH does, and " +
    'its exit code is the exit code of kiln ssh. On a terminal without a command you get an interactive shell.',
  examples: [
    { text: 'A shell in "dev"', command: 'kiln ssh dev' },
    { text: 'Run a command, with its exit code', command: "kiln ssh dev -- 'make test'" },
    { text: 'As an OpenSSH ProxyCommand (kiln config-ssh writes this for you)', command: 'ssh -o ProxyCommand="kiln ssh --stdio dev" kiln.dev' },
  ],
  flags: [
    { name: 'stdio', type: 'boolean', description: 'Carry the SSH connection on stdin/stdout instead (for an OpenSSH ProxyCommand)' },
    { name: 'ssh-host-prefix', type: 'string', description: 'With --stdio: strip this prefix from the workspace name (e.g. "kiln." for %h)', placeholder: 'prefix' },
  ],
  args: { min: 1, max: Number.MAX_SAFE_INTEGER },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const { client } = await connect(io);
  let ref = parsed.args[0] as string;
  const prefix = stringFlag(parsed.flags, 'ssh-host-prefix');
  if (prefix && ref.startsWith(prefix)) ref = ref.slice(prefix.length);
  const { agent } = await findAgent(client, ref);
  const sock = await dialAgentStream(client, agent.id, 'ssh');
  if (parsed.flags.stdio) return stdio(io, sock);
  const command = parsed.args.slice(1).join(' ');
  return session(io, sock, command || undefined);
}

/** `--stdio`: the bytes of the SSH connection on stdin and stdout, until either side ends. */
function stdio(io: CliIO, sock: Duplex): Promise<number> {
  return new Promise((resolve) => {
    io.stdin.pipe(sock);
    sock.on('data', (d: Buffer) => io.stdout.write(d));
    sock.on('end', () => resolve(0));
    sock.on('error', () => resolve(255));
    sock.on('close', () => resolve(0));
  });
}

/** An SSH session over the stream: a shell (on a PTY when stdin is a terminal) or one command; its exit code. */
function session(io: CliIO, sock: Duplex, command: string | undefined): Promise<number> {
  const conn = new ssh2.Client();
  const tty = command === undefined && io.stdin.isTTY === true && io.stdout.isTTY === true;
  return new Promise<number>((resolve, reject) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      conn.end();
      resolve(code);
    };
    conn.on('error', (e) => {
      if (!done) reject(new CliError(`the SSH connection failed: ${e.message}`));
    });
    conn.on('ready', () => {
      const onChannel = (err: Error | undefined, ch: ssh2.ClientChannel) => {
        if (err) return reject(new CliError(`the workspace refused the session: ${err.message}`));
        let code = 0;
        ch.on('exit', (c: number | null, signal?: string) => (code = c ?? (signal ? 255 : 0)));
        ch.on('data', (d: Buffer) => io.stdout.write(d));
        ch.stderr.on('data', (d: Buffer) => io.stderr.write(d));
        ch.on('close', () => {
          restore();
          finish(code);
        });
        let restore = () => {};
        if (tty) {
          io.stdin.setRawMode?.(true);
          const out = io.stdout as NodeJS.WriteStream;
          const resize = () => ch.setWindow(out.rows ?? 24, out.columns ?? 80, 0, 0);
          out.on?.('resize', resize);
          restore = () => {
            io.stdin.setRawMode?.(false);
            out.off?.('resize', resize);
            io.stdin.unpipe(ch);
            io.stdin.pause();
          };
        }
        io.stdin.pipe(ch);
      };
      if (command !== undefined) conn.exec(command, onChannel);
      else if (tty) {
        const out = io.stdout as NodeJS.WriteStream;
        conn.shell({ term: io.env.TERM || 'xterm-256color', rows: out.rows ?? 24, cols: out.columns ?? 80 }, onChannel);
      } else conn.shell(false, onChannel);
    });
    conn.connect({ sock: sock as never, username: io.env.USER || 'kiln', hostVerifier: () => true, readyTimeout: 30_000 });
  });
}
