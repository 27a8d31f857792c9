import { KilnClient } from '../../sdk/client.js';
import { parseCommand, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import { println, type CliIO } from '../io.js';
import { readSession, removeSession } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln logout',
  summary: 'End the saved session and forget it',
  description: 'The server expires the session token and the session file is removed. KILN_SESSION_TOKEN is left alone.',
  examples: [{ text: 'Log out', command: 'kiln logout' }],
  flags: [],
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  if (!parseCommand(io, argv, spec)) return 0;
  const session = await readSession(io.env);
  if (!session) throw new CliError('you are not logged in.');
  try {
    await new KilnClient(session.url, { token: session.token }).logout();
  } catch {
    // An unreachable server or an already-expired token must not keep the user logged in locally.
  }
  await removeSession(io.env);
  println(io.stdout, `Logged out of ${session.url}.`);
  return 0;
}
