import { KilnClient } from '../../sdk/client.js';
import { isSdkError } from '../../sdk/errors.js';
import { parseCommand, stringFlag, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import { UsageError, type FlagValues } from '../flags.js';
import { canPrompt, println, type CliIO } from '../io.js';
import { ask } from '../prompt.js';
import { normalizeUrl, readSession, writeSession } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln login [<url>] [flags]',
  summary: 'Log in to a kiln server and remember the session',
  description: [
    'The session (server URL and token) is saved in $XDG_CONFIG_HOME/kiln/session.json (~/.config/kiln by default),',
    'readable by you only. KILN_URL and KILN_SESSION_TOKEN override it for any command.',
    '',
    'A server without users gets its first user here, who becomes the owner: you are asked for the details at a',
    'terminal, or pass the --first-user-* flags. Otherwise log in with your email and password, or with --token.',
  ].join('\n'),
  examples: [
    { text: 'Log in, asked for email and password', command: 'kiln login http://127.0.0.1:3000' },
    { text: 'Set up a new server from a script', command: 'kiln login http://127.0.0.1:3000 --first-user-email admin@example.com --first-user-username admin --first-user-password "$PW"' },
    { text: 'Log in with a token (e.g. the one `kiln server --dev` prints)', command: 'kiln login http://127.0.0.1:3000 --token "$TOKEN"' },
  ],
  flags: [
    { name: 'token', type: 'string', placeholder: 'token', description: 'Log in with this session token or API key instead of a password' },
    { name: 'email', type: 'string', env: true, placeholder: 'email', description: 'Your email (asked at a terminal when absent)' },
    { name: 'password', type: 'string', env: true, placeholder: 'password', description: 'Your password (asked at a terminal when absent)' },
    { name: 'first-user-email', type: 'string', env: true, placeholder: 'email', description: 'Email of the first user, if the server has none' },
    { name: 'first-user-username', type: 'string', env: true, placeholder: 'name', description: 'Username of the first user, if the server has none' },
    { name: 'first-user-password', type: 'string', env: true, placeholder: 'password', description: 'Password of the first user, if the server has none' },
  ],
  args: { min: 0, max: 1 },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const { flags, args } = parsed;
  const url = normalizeUrl(args[0] ?? io.env.KILN_URL ?? (await readSession(io.env))?.url ?? (await askRequired(io, 'kiln server URL:', 'pass the server URL: kiln login <url>')));
  const client = new KilnClient(url);
  // Fails early, with "could not reach", when the URL is wrong.
  await client.buildInfo();

  const token = stringFlag(flags, 'token');
  if (token) {
    client.setToken(token);
  } else if (!(await client.hasFirstUser())) {
    await createFirstUser(io, client, flags);
  } else {
    const email = stringFlag(flags, 'email') ?? (await askRequired(io, 'Email:', 'pass --email and --password, or --token'));
    const password = stringFlag(flags, 'password') ?? (await askRequired(io, 'Password:', 'pass --email and --password, or --token', true));
    await client.login(email, password);
  }
  let me;
  try {
    me = await client.me();
  } catch (e) {
    if (isSdkError(e, 401)) throw new CliError('the server did not accept the token.', 'Check it, or log in with your email and password.');
    throw e;
  }
  await writeSession(io.env, { url, token: client.token as string });
  println(io.stdout, `Logged in to ${url} as ${me.username}.`);
  return 0;
}

async function createFirstUser(io: CliIO, client: KilnClient, flags: FlagValues): Promise<void> {
  const hint = 'the server has no users yet: pass --first-user-email, --first-user-username and --first-user-password to create the first one (the owner)';
  if (canPrompt(io)) println(io.stdout, 'This server has no users yet. Create the first one; it becomes the owner.');
  const email = stringFlag(flags, 'first-user-email') ?? (await askRequired(io, 'Email:', hint));
  const username = stringFlag(flags, 'first-user-username') ?? (await askRequired(io, 'Username:', hint, false, email.split('@')[0]));
  let password = stringFlag(flags, 'first-user-password');
  if (!password) {
    password = await askRequired(io, 'Password:', hint, true);
    const again = await askRequired(io, 'Confirm password:', hint, true);
    if (again !== password) throw new CliError('the passwords do not match.');
  }
  await client.createFirstUser({ email, username, password });
  await client.login(email, password);
  println(io.stdout, `Created the first user, ${username}, who owns this server.`);
}

/** Asks at a terminal; anywhere else a missing value is a usage error that says which flag to pass. */
async function askRequired(io: CliIO, question: string, hint: string, secret = false, fallback?: string): Promise<string> {
  if (!canPrompt(io)) throw new UsageError(hint);
  const a = await ask(io, question, { secret, default: fallback });
  if (a === null) throw new CliError('login interrupted.');
  if (!a) throw new CliError(`${question.replace(/:$/, '').toLowerCase()} is required.`);
  return a;
}
