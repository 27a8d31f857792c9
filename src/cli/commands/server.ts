import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { parseDuration } from '../../lib/duration.js';
import { coerceError } from '../../lib/errors.js';
import { createLogger, type LogLevel, type Logger } from '../../lib/logger.js';
import { startServer, type RunningServer, type ServerConfig } from '../../server/server.js';
import { formatFlags, parseFlags, UsageError, type FlagSpec } from '../flags.js';
import { kilnVersion } from '../../lib/version.js';


export const serverFlags: FlagSpec[] = [
  { name: 'address', short: 'a', type: 'string', env: true, default: '127.0.0.1:3000', placeholder: 'host:port', description: 'Where the HTTP API listens' },
  { name: 'access-url', type: 'string', env: true, placeholder: 'url', description: 'The URL users and workspaces reach this server at (default: from --address)' },
  { name: 'data-dir', type: 'string', env: true, placeholder: 'dir', description: 'Where kiln keeps its embedded PostgreSQL and workspaces (default: $XDG_DATA_HOME/kiln; /var/lib/kiln as root)' },
  { name: 'postgres-url', type: 'string', env: true, placeholder: 'url', description: 'An external PostgreSQL (13+) instead of the embedded one' },
  { name: 'provisioner-daemons', type: 'number', env: true, default: 3, placeholder: 'n', description: 'Built-in provisioner daemons, each running one build at a time' },
  { name: 'log-level', type: 'string', env: true, default: 'info', placeholder: 'level', description: 'trace, debug, info, warn or error' },
  { name: 'session-duration', type: 'string', env: true, default: '24h', placeholder: 'duration', description: 'Lifetime of a login session' },
  { name: 'max-file-size', type: 'number', env: true, default: 10 * 1024 * 1024, placeholder: 'bytes', description: 'Largest template archive POST /files accepts' },
  { name: 'job-hang-timeout', type: 'string', env: true, default: '5m', placeholder: 'duration', description: 'A running job without a heartbeat for this long is failed' },
  { name: 'job-pending-timeout', type: 'string', env: true, default: '30m', placeholder: 'duration', description: 'A job no daemon took for this long is failed' },
  { name: 'local-unsandboxed', type: 'boolean', env: true, description: 'DEVELOPMENT ONLY: run local workspaces without a sandbox, with this server\'s full access to the machine (every build warns)' },
  { name: 'wildcard-access-url', type: 'string', env: true, placeholder: 'host', description: 'Apps are served on <app>--<agent>--<workspace>--<owner>.<host> (default: *.apps.localhost:<port of --address>)' },
  { name: 'enable-path-apps', type: 'boolean', env: true, description: "Also serve apps at /@<owner>/<workspace>.<agent>/apps/<app>/ on the dashboard's origin (single-user setups only)" },
  { name: 'terraform-path', type: 'string', env: true, placeholder: 'path', description: 'The terraform binary (1.3+) for the terraform provisioner (default: terraform on PATH; off when none is found)' },
  { name: 'terraform-registry-provider', type: 'boolean', env: true, description: 'Templates get coder/coder from the Terraform registry instead of kiln\'s built-in provider (needs network)' },
  { name: 'provisioner-daemon-psk', type: 'string', env: true, placeholder: 'secret', description: 'A pre-shared key external provisioner daemons may authenticate with (default: none; use provisioner keys)' },
  { name: 'pty-idle-timeout', type: 'string', env: true, default: '5m', placeholder: 'duration', description: 'A workspace terminal nobody is attached to ends after this long (reconnecting within it resumes it)' },
  { name: 'pty-max-sessions', type: 'number', env: true, default: 16, placeholder: 'n', description: 'Terminals one workspace agent keeps open at once' },
  { name: 'dev', type: 'boolean', description: 'On first start, create an admin user and the example templates, and print the credentials and a token' },
  { name: 'help', short: 'h', type: 'boolean', description: 'Show this help' },
];

const HELP = `Usage: kiln server [flags]

Runs the API, the dashboard and the built-in provisioner daemons. Without --postgres-url an embedded PostgreSQL
runs in <data-dir>/postgres, on a unix socket only the server can reach (no TCP), started and stopped with the server
and restarted should it die.

Examples:
  kiln server
  kiln server --address 0.0.0.0:8080 --access-url https://kiln.example.com
  kiln server --postgres-url postgres://kiln:secret@db:5432/kiln

Flags:
${formatFlags(serverFlags)}`;

export function defaultDataDir(): string {
  // PostgreSQL runs as its own OS user when kiln runs as root, and that user cannot enter /root.
  if (process.getuid?.() === 0) return '/var/lib/kiln';
  const xdg = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'kiln');
}

export function serverConfigFromArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig | 'help' {
  const { flags, args } = parseFlags(argv, serverFlags, env);
  if (flags.help) return 'help';
  if (args.length) throw new UsageError(`unexpected argument "${args[0]}"`);
  const level = String(flags['log-level']);
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be trace, debug, info, warn or error`);
  const daemons = Number(flags['provisioner-daemons']);
  if (!Number.isInteger(daemons) || daemons < 0) throw new UsageError('--provisioner-daemons must be a whole number ≥ 0');
  // Zero would mean "fail every job at once" (hang timeout) or "sessions that expire as they are made": refused.
  const duration = (name: string) => {
    let ms: number;
    try {
      ms = parseDuration(String(flags[name]));
    } catch (e) {
      throw new UsageError(`--${name}: ${(e as Error).message}`);
    }
    if (ms <= 0) throw new UsageError(`--${name} must be longer than zero`);
    return ms;
  };
  const ptyMaxSessions = Number(flags['pty-max-sessions']);
  if (!Number.isInteger(ptyMaxSessions) || ptyMaxSessions <= 0) throw new UsageError('--pty-max-sessions must be a whole number > 0');
  const maxFileBytes = Number(flags['max-file-size']);
  if (!Number.isInteger(maxFileBytes) || maxFileBytes <= 0) throw new UsageError('--max-file-size must be a whole number of bytes > 0');
  return {
    address: String(flags.address),
    accessUrl: flags['access-url'] ? String(flags['access-url']) : undefined,
    dataDir: path.resolve(flags['data-dir'] ? String(flags['data-dir']) : defaultDataDir()),
    postgresUrl: flags['postgres-url'] ? String(flags['postgres-url']) : undefined,
    provisionerDaemons: daemons,
    logLevel: level as LogLevel,
    sessionDurationMs: duration('session-duration'),
    maxFileBytes,
    jobHangTimeoutMs: duration('job-hang-timeout'),
    jobPendingTimeoutMs: duration('job-pending-timeout'),
    version: kilnVersion(),
    dev: flags.dev === true,
    localUnsandboxed: flags['local-unsandboxed'] === true,
    wildcardAccessUrl: wildcard(flags['wildcard-access-url']),
    enablePathApps: flags['enable-path-apps'] === true,
    terraformPath: flags['terraform-path'] ? String(flags['terraform-path']) : undefined,
    terraformRegistryProvider: flags['terraform-registry-provider'] === true,
    provisionerDaemonPsk: flags['provisioner-daemon-psk'] ? String(flags['provisioner-daemon-psk']) : undefined,
    pty: { idleTimeoutMs: duration('pty-idle-timeout'), maxSessions: ptyMaxSessions },
  };
}

/** `*.apps.example.com` (a scheme is tolerated and dropped): apps need a wildcard DNS name pointing at kiln. */
function wildcard(v: unknown): string | undefined {
  if (v === undefined || v === '') return undefined;
  const host = String(v).replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  if (!/^\*\.[a-z0-9.-]+(:\d+)?$/i.test(host)) throw new UsageError('--wildcard-access-url must look like *.apps.example.com (optionally with :port)');
  return host;
}

/** In-flight requests get this long to finish after a signal; then open streams are cut. A second signal skips it. */
const DRAIN_TIMEOUT_MS = 10_000;
/** Stopping daemons, the pool and PostgreSQL gets this long before PostgreSQL is stopped directly. */
const STOP_TIMEOUT_MS = 30_000;
/** The hard bound on a shutdown after SIGTERM/SIGINT: drain, stop, stopping PostgreSQL, and a margin. */
export const SHUTDOWN_DEADLINE_MS = DRAIN_TIMEOUT_MS + STOP_TIMEOUT_MS + 10_000;

export async function run(argv: string[]): Promise<number> {
  const cfg = serverConfigFromArgs(argv);
  if (cfg === 'help') {
    console.log(HELP);
    return 0;
  }
  const logger = createLogger(cfg.logLevel);
  // Signals are caught from the very start: one that arrives while PostgreSQL starts waits for the start, then stops
  // everything, so no postgres process outlives the server.
  const signals = new SignalWatch(logger);
  let server: RunningServer | undefined;
  const crash = (e: unknown) => {
    logger.fatal({ err: coerceError(e) }, 'unexpected error: stopping PostgreSQL and exiting');
    void Promise.resolve(server?.api.postgres?.stop())
      .catch(() => {})
      .finally(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  try {
    const started = Date.now();
    if (cfg.localUnsandboxed) logger.warn('--local-unsandboxed: local workspaces run WITHOUT a sandbox, with this server\'s full access to the machine; for development only');
    server = await startServer(
      {
        ...cfg,
        onPostgresFatal: (err) => {
          // Without its database the server can only answer errors: exit, so a supervisor restarts it.
          logger.fatal({ err: err.message }, 'the embedded PostgreSQL is gone and could not be restarted: exiting');
          console.error(`kiln: ${err.message}`);
          process.exit(1);
        },
      },
      logger,
    );
    const inflight = trackRequests(server.api.app.server);
    if (!signals.received) {
      const url = server.api.ctx.options.accessUrl;
      console.log(`kiln ${kilnVersion()} listening on ${server.url} (access URL ${url}), ready in ${Date.now() - started} ms`);
      const tf = server.terraform;
      console.log(tf.ok ? `terraform: on (${tf.version}, ${tf.path})` : `terraform: off (${tf.reason}; templates with provisioner "terraform" will wait for an external daemon)`);
      console.log(`data: ${cfg.postgresUrl ? 'external PostgreSQL' : `embedded PostgreSQL in ${path.join(cfg.dataDir, 'postgres')}`}`);
      if (cfg.dev) await (await import('./serverDev.js')).setupDevEnvironment(server.url, logger);
      else if (!(await server.hasUsers())) {
        console.log(`No user exists yet. Create the first one (it becomes the owner):`);
        console.log(`  curl -X POST ${url}/api/v2/users/first -H 'Content-Type: application/json' \\`);
        console.log(`    -d '{"email":"admin@example.com","username":"admin","password":"a-long-password"}'`);
      }
    }
    const signal = await signals.first;
    logger.info({ signal }, 'shutting down: draining requests, then stopping PostgreSQL');
    // Whatever hangs (a database that does not answer, a stuck provisioner), the process ends within this bound.
    setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    // Stop accepting connections (idle keep-alive ones close now), let requests in flight finish, then close the rest.
    server.api.app.server.close();
    await Promise.race([inflight.idle(), delay(DRAIN_TIMEOUT_MS), signals.second]);
    const stopped = await Promise.race([server.close().then(() => true), delay(STOP_TIMEOUT_MS).then(() => false)]);
    if (!stopped) {
      logger.error({ timeoutMs: STOP_TIMEOUT_MS }, 'shutdown timed out: stopping PostgreSQL directly');
      await Promise.race([server.api.postgres?.stop(), delay(5_000)]);
      setTimeout(() => process.exit(1), 1_000).unref();
      return 1;
    }
    console.log('kiln stopped');
    // Everything is closed; should a stray handle still hold the event loop, do not hang on it.
    setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
    return 0;
  } finally {
    signals.dispose();
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** SIGINT/SIGTERM: the first starts a graceful shutdown, a second one skips the drain. */
class SignalWatch {
  received: NodeJS.Signals | undefined;
  readonly first: Promise<NodeJS.Signals>;
  readonly second: Promise<void>;
  #resolveFirst!: (s: NodeJS.Signals) => void;
  #resolveSecond!: () => void;
  #handler = (signal: NodeJS.Signals) => {
    if (!this.received) {
      this.received = signal;
      this.#resolveFirst(signal);
      return;
    }
    this.logger.warn({ signal }, 'second signal: not waiting for requests in flight');
    this.#resolveSecond();
  };

  constructor(private readonly logger: Logger) {
    this.first = new Promise((r) => (this.#resolveFirst = r));
    this.second = new Promise((r) => (this.#resolveSecond = r));
    process.on('SIGINT', this.#handler);
    process.on('SIGTERM', this.#handler);
  }

  dispose(): void {
    process.off('SIGINT', this.#handler);
    process.off('SIGTERM', this.#handler);
  }
}

/**
 * Counts requests in flight, so shutdown can wait for them. Event streams are left out: they end only when the server
 * closes them.
 */
function trackRequests(server: HttpServer): { idle(): Promise<void> } {
  let n = 0;
  const waiters: (() => void)[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.accept?.includes('text/event-stream')) return;
    n++;
    res.once('close', () => {
      if (--n === 0) for (const w of waiters.splice(0)) w();
    });
  });
  return {
    idle: () => (n === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
}
