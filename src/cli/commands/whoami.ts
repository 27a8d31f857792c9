import { parseCommand, type CommandSpec } from '../command.js';
import { println, type CliIO } from '../io.js';
import { outputFlag, outputFormat, printJson } from '../output.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln whoami [flags]',
  summary: 'Show which server you are logged in to, and as whom',
  examples: [{ text: 'Check the session', command: 'kiln whoami' }],
  flags: [outputFlag],
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const { client, url } = await connect(io);
  const me = await client.me();
  if (outputFormat(parsed.flags) === 'json') {
    printJson(io, { url, username: me.username, email: me.email, roles: me.roles.map((r) => r.name) });
    return 0;
  }
  const roles = me.roles.length ? me.roles.map((r) => r.name).join(', ') : 'member';
  println(io.stdout, `You are ${me.username} <${me.email}> on ${url} (${roles}).`);
  return 0;
}
