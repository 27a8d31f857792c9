import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

import { coerceError } from '../../lib/errors.js';
import { createLogger, type LogLevel } from '../../lib/logger.js';
import { kilnVersion } from '../../lib/version.js';
import { ProvisionerDaemon } from '../../provisionerd/daemon.js';
import { NetworkProvisionerdClient } from '../../sdk/provisionerd.js';
import { availableProvisioners, createProvisioners } from '../../server/provisioners.js';
import { dispatch, listFlag, parseCommand, stringFlag, type CommandSpec } from '../command.js';
import { UsageError } from '../flags.js';
import { println, type CliIO } from '../io.js';
import { parseDuration } from '../../lib/duration.js';
import { readSession } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln provisionerd start [flags]',
  summary: 'Run an external provisioner daemon that takes jobs from a kiln server over the network',
  description: [
    'Runs the same daemon as the built-in ones, connected over one WebSocket (docs/provisioner-protocol.md). It takes',
    'jobs whose tags it carries, reconnects with backoff (to the next --url when several are given), and on SIGTERM',
    'stops taking jobs, lets the running one finish for up to --shutdown-timeout, then fails it with a message.',
    'Authenticate with --key (a provisioner key), --psk (the server\'s --provisioner-daemon-psk) or, for a daemon of',
    'your own (--tag scope=user), your login session.',
  ].join('\n'),
  examples: [
    { text: 'With a provisioner key, near the infrastructure it builds', command: 'kiln provisionerd start --url https://kiln.example.com --key $KEY --name builder-1' },
    { text: 'Two replicas, a pre-shared key and a tag', command: 'kiln provisionerd start --url http://a:3000,http://b:3000 --psk $PSK --tag env=prod' },
    { text: 'Your own daemon for your own jobs', command: 'kiln provisionerd start --tag scope=user' },
  ],
  flags: [
    { name: 'url', type: 'list', env: true, placeholder: 'url[,url]', description: 'Server URL(s); several are tried in turn (default: the logged-in server)' },
    { name: 'key', type: 'string', placeholder: 'secret', description: 'Provisioner key (or KILN_PROVISIONER_DAEMON_KEY)' },
    { name: 'psk', type: 'string', placeholder: 'secret', description: 'Pre-shared key (or KILN_PROVISIONER_DAEMON_PSK)' },
    { name: 'org', short: 'O', type: 'string', default: 'default', placeholder: 'org', description: 'Organization id or name' },
    { name: 'tag', short: 't', type: 'list', placeholder: 'k=v', description: 'A tag jobs must match (repeatable)' },
    { name: 'provisioner', type: 'list', default: 'echo', placeholder: 'types', description: `Provisioners to run (${availableProvisioners().join(', ')})` },
    { name: 'name', type: 'string', placeholder: 'name', description: 'Daemon name (default: the host name)' },
    { name: 'concurrency', type: 'number', default: 1, placeholder: 'n', description: 'Jobs run at once (each slot is a daemon named <name>-<i>)' },
    { name: 'shutdown-timeout', type: 'string', default: '5m', placeholder: 'duration', description: 'On SIGTERM, how long the running job may still take' },
    { name: 'data-dir', type: 'string', placeholder: 'dir', description: 'Where the local provisioner keeps workspaces (default: $XDG_DATA_HOME/kiln-provisionerd)' },
    { name: 'log-level', type: 'string', env: true, default: 'info', placeholder: 'level', description: 'trace, debug, info, warn or error' },
  ],
  args: { min: 0, max: 0 },
};

/** `kiln provisionerd …` */
export function run(argv: string[], io: CliIO): Promise<number> {
  return dispatch(io, argv, 'provisionerd', 'Run an external provisioner daemon', {
    start: { summary: spec.summary, run: (a, i) => start(a, i) },
  });
}

function splitList(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export function parseTags(values: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of values) {
    const i = t.indexOf('=');
    if (i <= 0) throw new UsageError(`--tag "${t}" must be key=value`);
    tags[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return tags;
}

async function start(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const f = parsed.flags;
  const key = stringFlag(f, 'key') ?? process.env.KILN_PROVISIONER_DAEMON_KEY;
  const psk = stringFlag(f, 'psk') ?? process.env.KILN_PROVISIONER_DAEMON_PSK;
  if (key && psk) throw new UsageError('give --key or --psk, not both');
  let urls = splitList(listFlag(f, 'url'));
  let token: string | undefined;
  if (!key && !psk) {
    // A user's own daemon: the login session (or KILN_URL/KILN_SESSION_TOKEN) supplies the server and the token.
    const session = await readSession(io.env);
    token = io.env.KILN_SESSION_TOKEN ?? session?.token;
    if (!urls.length && session) urls = [session.url];
    if (!token) throw new UsageError('no credentials: pass --key or --psk, or log in ("kiln login") to run a daemon of your own');
  }
  if (!urls.length) throw new UsageError('--url is required (the server, or a comma-separated list of replicas)');
  const provisionerNames = splitList(listFlag(f, 'provisioner').length ? listFlag(f, 'provisioner') : ['echo']);
  const unknown = provisionerNames.filter((p) => !availableProvisioners().includes(p));
  if (unknown.length) throw new UsageError(`--provisioner: unknown "${unknown.join('", "')}" (this kiln has ${availableProvisioners().join(', ')})`);
  const concurrency = Number(f.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError('--concurrency must be a whole number from 1 to 64');
  let shutdownMs: number;
  try {
    shutdownMs = parseDuration(String(f['shutdown-timeout']));
  } catch (e) {
    throw new UsageError(`--shutdown-timeout: ${(e as Error).message}`);
  }
  const level = String(f['log-level']);
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError('--log-level must be trace, debug, info, warn or error');
  const tags = parseTags(listFlag(f, 'tag'));
  const baseName = stringFlag(f, 'name') ?? os.hostname();
  const dataDir = path.resolve(stringFlag(f, 'data-dir') ?? path.join(io.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'kiln-provisionerd'));
  const logger = createLogger(level as LogLevel, process.stderr);
  const provisioners = createProvisioners(provisionerNames, { dataDir, accessUrl: urls[0] as string });

  let fatal: Error | undefined;
  let wakeMain: () => void = () => {};
  const slots = Array.from({ length: concurrency }, (_, i) => {
    const name = concurrency === 1 ? baseName : `${baseName}-${i + 1}`;
    const client = new NetworkProvisionerdClient({
      urls,
      organization: String(f.org),
      auth: { key, psk, token },
      name,
      instanceId: randomUUID(),
      version: kilnVersion(),
      provisioners: provisionerNames,
      tags,
      logger: logger.child({ daemon: name }),
      onFatal: (e) => {
        fatal ??= e;
        wakeMain();
      },
    });
    const daemon = new ProvisionerDaemon({ client, provisioners, logger: logger.child({ daemon: name }) });
    return { name, client, daemon };
  });

  const signals = new Promise<NodeJS.Signals>((resolve) => {
    wakeMain = () => resolve('SIGTERM');
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  try {
    const first = await Promise.race([Promise.all(slots.map((s) => s.client.connect())), signals.then(() => undefined)]);
    if (fatal) throw fatal;
    if (first) println(io.stdout, `kiln provisionerd ${kilnVersion()}: ${concurrency} slot(s) connected to ${slots[0]?.client.connectedUrl} as ${slots.map((s) => s.name).join(', ')}; tags ${JSON.stringify(first[0]?.tags ?? {})}`);
    for (const s of slots) s.daemon.start();
    const signal = await signals;
    if (fatal) {
      logger.error({ err: (fatal as Error).message }, 'the server refused this daemon; stopping');
      await Promise.all(slots.map((s) => s.daemon.close()));
      return 1;
    }
    logger.info({ signal, shutdown_timeout_ms: shutdownMs }, 'stopping: no new jobs; running jobs may finish');
    // Graceful first: stop acquiring and let running jobs end; past the timeout they are stopped and failed.
    const graceful = Promise.all(slots.map((s) => s.daemon.shutdown()));
    const timedOut = await Promise.race([graceful.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), shutdownMs).unref())]);
    if (timedOut) logger.warn({ shutdown_timeout_ms: shutdownMs }, 'shutdown timeout reached: failing the running job(s)');
    await Promise.all(slots.map((s) => s.daemon.close()));
    return 0;
  } catch (e) {
    logger.error({ err: coerceError(e).message }, 'provisioner daemon failed');
    throw e;
  } finally {
    for (const s of slots) s.client.close();
  }
}
