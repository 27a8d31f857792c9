import { execFile } from 'node:child_process';
import path from 'node:path';

/** Where the workspace's home appears inside the sandbox, whatever the host path. */
export const SANDBOX_HOME = '/home/kiln';
/** Directories replaced by an empty tmpfs in the sandbox: the host's homes and temp files stay out of sight. */
const HIDDEN = ['/home', '/tmp'];

let found: Promise<string | undefined> | undefined;

/** The bwrap binary if it is installed and can build a sandbox here (it cannot inside some containers). */
export function findBwrap(): Promise<string | undefined> {
  found ??= new Promise((resolve) => {
    execFile('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--as-pid-1', 'true'], { timeout: 10_000 }, (err) => resolve(err ? undefined : 'bwrap'));
  });
  return found;
}

export interface SandboxSpec {
  bwrap: string;
  home: string;
  /** Host paths the agent needs to run (node, kiln); re-exposed read-only if a hidden directory covers them. */
  needs: string[];
  command: string[];
}

/**
 * The bwrap command line of a workspace: the host's root read-only, capabilities dropped, the home bound writable at
 * SANDBOX_HOME, fresh /dev, /proc and /tmp, its own PID namespace with the agent as PID 1 (so when the agent exits,
 * everything started in the workspace goes with it). The network is shared, so apps answer on the host's loopback.
 * `--die-with-parent` is deliberately absent: a workspace outlives a server restart.
 */
export function bwrapCommand(s: SandboxSpec): string[] {
  const args = [s.bwrap, '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
  // A bind target must exist in the read-only root: the tmpfs above it makes /home/kiln creatable.
  for (const d of HIDDEN) args.push('--tmpfs', d);
  for (const p of s.needs) if (HIDDEN.some((d) => p === d || p.startsWith(d + '/'))) args.push('--ro-bind', p, p);
  args.push('--bind', s.home, SANDBOX_HOME, '--chdir', SANDBOX_HOME);
  args.push('--unshare-pid', '--as-pid-1', '--cap-drop', 'ALL', '--new-session', '--info-fd', '3', '--');
  return [...args, ...s.command];
}

/** The install prefix of a binary (`/usr/local/bin/node` → `/usr/local`), which holds what it loads. */
export function prefixOf(bin: string): string {
  return path.dirname(path.dirname(bin));
}
