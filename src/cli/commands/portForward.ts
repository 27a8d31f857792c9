import net from 'node:net';

import { dialAgentStream } from '../../sdk/agentStreams.js';
import { join } from '../../sdk/tunnel/session.js';
import { findAgent } from '../agentTarget.js';
import { parseCommand, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import { UsageError } from '../flags.js';
import { println, type CliIO } from '../io.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln port-forward <workspace>[.<agent>] --tcp <local>:<remote> [--tcp …]',
  summary: 'Forward local TCP ports to ports in a workspace',
  description:
    'Listens on 127.0.0.1:<local> (your loopback only) and carries each connection through the kiln server to ' +
    '127.0.0.1:<remote> inside the workspace. Runs until interrupted (Ctrl-C); the ports close with it.',
  examples: [{ text: "The workspace's app on port 8000 at http://127.0.0.1:18080", command: 'kiln port-forward dev --tcp 18080:8000' }],
  flags: [{ name: 'tcp', short: 'p', type: 'list', description: 'A local:remote TCP port pair (repeatable)', placeholder: 'local:remote' }],
  args: { min: 1, max: 1 },
};

function parsePair(s: string): { local: number; remote: number } {
  const m = /^(\d+):(\d+)$/.exec(s) ?? /^(\d+)$/.exec(s);
  const local = Number(m?.[1]);
  const remote = Number(m?.[2] ?? m?.[1]);
  const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!m || !ok(local) || !ok(remote)) throw new UsageError(`--tcp "${s}" is not <local>:<remote> with ports from 1 to 65535`);
  return { local, remote };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const raw = parsed.flags.tcp;
  const pairs = (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []).map(String).map(parsePair);
  if (pairs.length === 0) throw new UsageError('name at least one port pair with --tcp <local>:<remote>');
  const { client } = await connect(io);
  const { workspace, agent } = await findAgent(client, parsed.args[0] as string);
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  try {
    for (const p of pairs) {
      const server = net.createServer((sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => {});
        dialAgentStream(client, agent.id, { port: p.remote }).then(
          (stream) => join(sock, stream),
          (e: unknown) => {
            io.stderr.write(`kiln port-forward: 127.0.0.1:${p.local} → ${p.remote}: ${(e as Error).message}\n`);
            sock.destroy();
          },
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) =>
          reject(new CliError(`cannot listen on 127.0.0.1:${p.local}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}.`)),
        );
        server.listen(p.local, '127.0.0.1', () => resolve());
      });
      servers.push(server);
      println(io.stdout, `Forwarding 127.0.0.1:${p.local} → ${workspace.name}:${p.remote}`);
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }
  println(io.stderr, 'Press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    const off = io.onInterrupt(() => {
      off();
      resolve();
    });
  });
  for (const s of servers) s.close();
  for (const s of sockets) s.destroy();
  return 0;
}
