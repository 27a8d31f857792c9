import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

import { which } from './sandbox.js';

/** slirp4netns's built-in DNS forwarder, as its `--configure` sets the namespace up (10.0.2.0/24). */
export const SLIRP_DNS = '10.0.2.3';

export const OUTBOUND_INSTALL_HINT =
  'the template asks for outbound network (kiln.json "network": "outbound"), which needs slirp4netns on the server\'s ' +
  'PATH (Debian/Ubuntu: apt-get install slirp4netns; Fedora: dnf install slirp4netns). Install it, or remove "network" ' +
  'from kiln.json to run the workspace without outbound network.';

export async function findSlirp(): Promise<string | undefined> {
  return which('slirp4netns');
}

export interface OutboundOptions {
  slirp: string;
  /** A process in the workspace's network namespace (the sandbox's PID 1). */
  pid: number;
  logFile: string;
  /** cgroup.procs files slirp4netns joins, so stop and delete end it with the workspace. */
  cgroupProcs?: string[];
}

/**
 * Gives a sandbox an outbound route: slirp4netns (user-mode TCP/IP, no privileges, no host interface) attaches a tap
 * device to the workspace's network namespace. `--disable-host-loopback` keeps 10.0.2.2 from reaching the host's
 * 127.0.0.1, where the server's own services listen. Resolves once the device is configured.
 */
export async function startOutbound(o: OutboundOptions): Promise<number> {
  const args = ['--configure', '--mtu=65520', '--disable-host-loopback', '--ready-fd=3'];
  if (process.getuid?.() === 0) {
    // By pid, slirp4netns would first enter the sandbox's innermost user namespace (bwrap --disable-userns nests one),
    // where it has no right over the network namespace; root enters the network namespace by path directly.
    args.push('--netns-type=path', `/proc/${o.pid}/ns/net`, 'tap0');
  } else {
    // Unprivileged, slirp4netns enters the sandbox's user namespace (see SandboxSpec.allowNestedUserns).
    args.push(`--userns-path=/proc/${o.pid}/ns/user`, String(o.pid), 'tap0');
  }
  const out = openSync(o.logFile, 'a');
  try {
    const child = spawn(o.slirp, args, { detached: true, stdio: ['ignore', out, out, 'pipe'] });
    const ready = child.stdio[3] as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`slirp4netns exited with code ${code}; see ${o.logFile}`)));
      ready.once('data', () => resolve());
    });
    child.removeAllListeners('exit');
    child.on('exit', () => {});
    (ready as unknown as { destroy(): void }).destroy();
    child.unref();
    const pid = child.pid as number;
    for (const f of o.cgroupProcs ?? []) await writeFile(f, String(pid));
    return pid;
  } finally {
    closeSync(out);
  }
}
