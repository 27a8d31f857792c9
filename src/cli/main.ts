import { ExitError, formatError } from './errors.js';
import { processIO, println, type CliIO } from './io.js';
import { kilnVersion } from '../lib/version.js';

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run(argv: string[], io: CliIO): Promise<number> }>;
  /** Commands made of subcommands name the subcommand in their error messages too (`kiln templates push: …`). */
  subcommands?: boolean;
}

/** Commands load lazily, so `kiln --version` and `kiln --help` never pay for the SDK or the server's modules. */
const COMMANDS: Record<string, CommandEntry> = {
  login: { summary: 'Log in to a kiln server (creates the first user on a new one)', load: () => import('./commands/login.js') },
  logout: { summary: 'End the saved session', load: () => import('./commands/logout.js') },
  whoami: { summary: 'Show the server and user you are logged in as', load: () => import('./commands/whoami.js') },
  templates: { summary: 'Write, publish and list templates (init, push, list, versions)', load: () => import('./commands/templates.js'), subcommands: true },
  create: { summary: 'Create a workspace from a template and watch its build', load: () => import('./commands/create.js') },
  list: { summary: 'List workspaces', load: () => import('./commands/list.js') },
  show: { summary: 'Show a workspace: status, resources, agents, apps', load: () => import('./commands/show.js') },
  start: { summary: 'Start a workspace', load: () => import('./commands/start.js') },
  stop: { summary: 'Stop a workspace', load: () => import('./commands/stop.js') },
  restart: { summary: 'Stop, then start a workspace', load: () => import('./commands/restart.js') },
  delete: { summary: 'Delete a workspace', load: () => import('./commands/delete.js') },
  cancel: { summary: 'Cancel the build in progress of a workspace', load: () => import('./commands/cancel.js') },
  builds: { summary: 'List the builds of a workspace', load: () => import('./commands/builds.js'), subcommands: true },
  ssh: { summary: 'Open a shell in a workspace or run a command there (also an OpenSSH ProxyCommand)', load: () => import('./commands/ssh.js') },
  'config-ssh': { summary: 'Add your workspaces to ~/.ssh/config as kiln.<workspace> (ssh, scp, VS Code)', load: () => import('./commands/configSsh.js') },
  'port-forward': { summary: 'Forward local TCP ports to ports in a workspace', load: () => import('./commands/portForward.js') },
  logs: { summary: 'Show or follow the log of a build', load: () => import('./commands/logs.js') },
  state: { summary: 'Pull or push the provisioner state of a workspace', load: () => import('./commands/state.js'), subcommands: true },
  agent: { summary: 'Run the workspace agent (inside a workspace; reads KILN_AGENT_URL, KILN_AGENT_TOKEN)', load: () => import('./commands/agent.js') },
  provisioner: { summary: 'Provisioner keys, daemons and jobs (keys, list, jobs)', load: () => import('./commands/provisioner.js'), subcommands: true },
  provisionerd: { summary: 'Run an external provisioner daemon (provisionerd start)', load: () => import('./commands/provisionerd.js'), subcommands: true },
  server: { summary: 'Run the kiln server (API, dashboard, built-in provisioner daemons)', load: () => import('./commands/server.js') },
};

/** Names `coder` users type out of habit. */
const ALIASES: Record<string, string> = { ls: 'list', rm: 'delete', template: 'templates', provisioners: 'provisioner' };

export function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'kiln — a control plane for development workspaces, speaking Coder\'s v2 API.',
    '',
    'Usage: kiln <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    '',
    'Get started:',
    '  kiln login http://127.0.0.1:3000',
    '  kiln templates init echo && kiln templates push echo -d echo',
    '  kiln create dev -t echo',
    '',
    'Flags:',
    '  -h, --help     Show help (also: kiln <command> --help)',
    '  -v, --version  Print the version',
    '',
    'Environment: KILN_URL and KILN_SESSION_TOKEN override the saved session; NO_COLOR turns colour off.',
  ].join('\n');
}

/**
 * Runs one kiln command and returns its exit code: 0 on success, 1 on failure, 2 on a usage error. Errors are
 * printed as the server's message and detail, never as a stack trace.
 */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v' || first === 'version') {
    println(io.stdout, `kiln ${kilnVersion()}`);
    return 0;
  }
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    println(first ? io.stdout : io.stderr, usage());
    return first ? 0 : 2;
  }
  const cmd = ALIASES[first] ?? first;
  const entry = COMMANDS[cmd];
  if (!entry) {
    println(io.stderr, `kiln: unknown command "${first}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await entry.load()).run(rest, io);
  } catch (e) {
    if (e instanceof ExitError) return e.exitCode;
    const sub = entry.subcommands && rest[0] && /^[a-z]+$/.test(rest[0]) ? ` ${rest[0]}` : '';
    const { text, exitCode } = formatError(`${cmd}${sub}`, e);
    println(io.stderr, text);
    return exitCode;
  }
}
