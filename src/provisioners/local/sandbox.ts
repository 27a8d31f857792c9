import { execFile } from 'node:child_process';
import { access, lstat, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';

/** Where the workspace's home appears inside the sandbox, whatever the host path. */
export const SANDBOX_HOME = '/home/kiln';
/** Where the directory holding the server's agent socket appears inside the sandbox. */
export const SANDBOX_AGENT_DIR = '/run/kiln';
export const SANDBOX_AGENT_SOCKET = `${SANDBOX_AGENT_DIR}/agent.sock`;
/** The uid and gid workspace processes see for themselves (the host sees the workspace's own uid, see identity.ts). */
export const SANDBOX_UID = 1000;

export const BWRAP_INSTALL_HINT =
  'local workspaces run in a bubblewrap sandbox, and no working bwrap was found on this server\'s PATH. Install it ' +
  '(Debian/Ubuntu: apt-get install bubblewrap; Fedora/RHEL: dnf install bubblewrap; Arch: pacman -S bubblewrap) and make ' +
  'sure unprivileged user namespaces are allowed (sysctl kernel.unprivileged_userns_clone=1 where that exists). For ' +
  'development only, `kiln server --local-unsandboxed` runs workspaces without any isolation.';

/** Read-only system directories of the allow-list; `/etc` is added apart, with its secrets masked. */
const SYSTEM = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Files of /etc no workspace has any business reading, masked by an empty file even where permissions would stop it. */
const ETC_SECRETS = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers', '/etc/security/opasswd'];

/** `name` looked up in PATH, as execvp would. */
export async function which(name: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(':').filter(Boolean)) {
    const p = path.join(dir, name);
    if (await access(p, 1 /* X_OK */).then(() => true, () => false)) return p;
  }
  return undefined;
}

const probes = new Map<string, Promise<boolean>>();

/**
 * The bwrap binary on PATH if it can build the kind of sandbox workspaces get (user, PID and network namespaces); it
 * cannot inside some containers or where unprivileged user namespaces are off. Looked up on every build (PATH may
 * change), probed once per binary.
 */
export async function findBwrap(): Promise<string | undefined> {
  const bin = await which('bwrap');
  if (!bin) return undefined;
  let ok = probes.get(bin);
  if (!ok) {
    const args = ['--unshare-user', '--unshare-pid', '--unshare-net', '--ro-bind', '/', '/', '--as-pid-1', '/bin/sh', '-c', 'exit 0'];
    ok = new Promise((resolve) => execFile(bin, args, { timeout: 10_000 }, (err) => resolve(!err)));
    probes.set(bin, ok);
  }
  return (await ok) ? bin : undefined;
}

export interface SandboxSpec {
  bwrap: string;
  /** The workspace's home on the host, bound writable at SANDBOX_HOME. */
  home: string;
  /** Host directories the agent needs (the Node and kiln installs), bound read-only at the same path. */
  needs: string[];
  /** Host paths that must stay invisible even when a bound install holds them (the data dir). */
  hide: string[];
  /** The directory holding the server's agent socket, bound at SANDBOX_AGENT_DIR. */
  agentDir: string;
  hostname: string;
  /**
   * Leave out `--disable-userns`: an unprivileged server's slirp4netns must enter the sandbox's own user namespace,
   * which that option nests out of reach.
   */
  allowNestedUserns?: boolean;
  /** With an outbound network: a resolv.conf naming slirp4netns's DNS, bound over /etc/resolv.conf. */
  resolvConf?: string;
  command: string[];
}

async function kind(p: string): Promise<'dir' | 'symlink' | 'file' | undefined> {
  try {
    const s = await lstat(p);
    return s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/**
 * The bwrap command line of a workspace. The root is an empty tmpfs made read-only; on it, read-only: the system
 * directories, /etc with its secrets masked, the Node and kiln installs; a fresh /dev, /proc and private /tmp; the home
 * writable; the agent socket's directory. Nothing else of the host exists inside: no /run, /var, /root, other homes or
 * the data dir. New user namespace (the workspace's host uid appears as SANDBOX_UID, with no capabilities on the
 * host), PID namespace with the agent as PID 1 (its exit ends everything started inside), and network namespace (its
 * own loopback and nothing else, unless slirp4netns adds an outbound route). `--die-with-parent` is deliberately
 * absent: a workspace outlives a server restart.
 */
export async function bwrapCommand(s: SandboxSpec): Promise<string[]> {
  const a = [s.bwrap, '--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID)];
  a.push('--unshare-pid', '--as-pid-1', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--hostname', s.hostname);
  for (const d of SYSTEM) {
    const k = await kind(d);
    if (k === 'symlink') a.push('--symlink', await readlink(d), d);
    else if (k === 'dir') a.push('--ro-bind', d, d);
  }
  a.push('--ro-bind', '/etc', '/etc');
  const secrets = [...ETC_SECRETS];
  for (const f of await readdir('/etc/ssh').catch(() => [] as string[])) if (/^ssh_host_.*_key$/.test(f)) secrets.push(`/etc/ssh/${f}`);
  for (const f of secrets) if ((await kind(f)) === 'file') a.push('--ro-bind', '/dev/null', f);
  if (s.resolvConf) a.push('--ro-bind', s.resolvConf, '/etc/resolv.conf');
  const system = (p: string) => ['/usr', '/etc', ...SYSTEM].some((d) => p === d || p.startsWith(d + '/'));
  for (const p of [...new Set(s.needs)]) if (!system(p)) a.push('--ro-bind', p, p);
  // A data dir inside a bound install (`--data-dir ./data` in a checkout) is covered by an empty tmpfs.
  for (const h of s.hide) if (s.needs.some((n) => h === n || h.startsWith(n + '/'))) a.push('--tmpfs', h);
  a.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--dir', '/home');
  a.push('--bind', s.home, SANDBOX_HOME, '--ro-bind', s.agentDir, SANDBOX_AGENT_DIR);
  a.push('--remount-ro', '/', '--chdir', SANDBOX_HOME);
  a.push('--cap-drop', 'ALL', '--new-session', ...(s.allowNestedUserns ? [] : ['--disable-userns']), '--info-fd', '3', '--');
  return [...a, ...s.command];
}

/**
 * The first directory on the way to `p` (inclusive) that `uid`/`gid` cannot enter, if any. bwrap runs as the
 * workspace's uid and must reach every path it binds: a kiln checkout under /root (mode 0700) is out of its reach.
 */
export async function firstBlocked(p: string, uid: number, gid: number): Promise<string | undefined> {
  const chain: string[] = [];
  for (let d = path.resolve(p); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of chain) {
    const s = await stat(d).catch(() => undefined);
    if (!s) return d;
    const ok = s.uid === uid ? (s.mode & 0o100) !== 0 : s.gid === gid ? (s.mode & 0o010) !== 0 : (s.mode & 0o001) !== 0;
    if (!ok) return d;
  }
  return undefined;
}

/** The install prefix of a binary (`/usr/local/bin/node` → `/usr/local`), which holds what it loads. */
export function prefixOf(bin: string): string {
  return path.dirname(path.dirname(bin));
}
