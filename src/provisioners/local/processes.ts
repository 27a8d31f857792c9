import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { sleep } from '../../lib/backoff.js';

/** A launched agent: the pid to signal, and its start time so a recycled pid is never mistaken for it. */
export interface ProcessRef {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  start: string;
}

async function procStat(pid: number): Promise<{ state: string; start: string } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', start: rest[19] ?? '' };
  } catch {
    return undefined;
  }
}

export async function processStart(pid: number): Promise<string> {
  return (await procStat(pid))?.start ?? '';
}

/** Running, and the same process we launched (a zombie has exited already). */
export async function isAlive(p: ProcessRef): Promise<boolean> {
  const s = await procStat(p.pid);
  return !!s && s.start === p.start && s.state !== 'Z' && s.state !== 'X';
}

/**
 * Whether `p` is a process this workspace started: alive with the recorded start time, launched with this workspace's
 * id in its environment (set by the provisioner, not by the state), and in the workspace's cgroup when there is one.
 * A pid from the build state alone never decides what is signalled: the state is user-writable (`kiln state push`).
 */
export async function belongsTo(p: ProcessRef, workspaceId: string, cgroupPids?: number[]): Promise<boolean> {
  if (!Number.isInteger(p.pid) || p.pid <= 1 || typeof p.start !== 'string' || !(await isAlive(p))) return false;
  if (cgroupPids && !cgroupPids.includes(p.pid)) return false;
  try {
    const env = (await readFile(`/proc/${p.pid}/environ`, 'utf8')).split('\0');
    return env.includes(`KILN_WORKSPACE_ID=${workspaceId}`);
  } catch {
    return false;
  }
}

/**
 * Runs as root before the real command: writes its own pid into the workspace's cgroup (so everything it becomes and
 * forks is counted and found), then execs. Passing the files through the environment keeps "$@" untouched.
 */
const CGROUP_ENTER = 'IFS=:; for f in $KILN_CGROUP_PROCS; do echo $$ > "$f" || exit 97; done; unset KILN_CGROUP_PROCS; exec "$@"';

export interface LaunchOptions {
  /** cgroup.procs files the process enters before it runs anything (root only). */
  cgroupProcs?: string[];
  /** Drop to this uid/gid (no supplementary groups, no capabilities) before exec (root only). */
  runAs?: { uid: number; gid: number };
  command: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where the process's stdout and stderr go (appended). */
  logFile: string;
  /** bwrap reports the sandboxed child's pid on this fd (`--info-fd 3`). */
  infoFd: boolean;
}

/**
 * Starts a process that outlives the server: its own session (detached), no pipes to us, unref'd. Returns the pid to
 * signal: bwrap's child (pid 1 of the sandbox's PID namespace, whose exit ends every process in it) when `infoFd`,
 * otherwise the process itself (the leader of its own process group).
 */
export async function launch(o: LaunchOptions): Promise<ProcessRef> {
  const out = openSync(o.logFile, 'a');
  try {
    let command = o.command;
    if (o.runAs) {
      command = ['setpriv', '--reuid', String(o.runAs.uid), '--regid', String(o.runAs.gid), '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--', ...command];
    }
    const env = { ...o.env };
    if (o.cgroupProcs?.length) {
      env.KILN_CGROUP_PROCS = o.cgroupProcs.join(':');
      command = ['/bin/sh', '-c', CGROUP_ENTER, 'kiln-launch', ...command];
    }
    const child = spawn(command[0] as string, command.slice(1), {
      cwd: o.cwd,
      env,
      detached: true,
      stdio: ['ignore', out, out, o.infoFd ? 'pipe' : 'ignore'],
    });
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${o.command[0]} exited at once with code ${code}; see ${o.logFile}`)));
    });
    let pid: number;
    if (o.infoFd) {
      const info = child.stdio[3] as NodeJS.ReadableStream;
      const text = await Promise.race([
        new Promise<string>((resolve) => {
          let buf = '';
          info.on('data', (d: Buffer) => (buf += d.toString()));
          info.on('end', () => resolve(buf));
        }),
        exited,
      ]);
      const parsed = JSON.parse(text) as { 'child-pid'?: number };
      if (!parsed['child-pid']) throw new Error(`bwrap reported no child pid: ${text}`);
      pid = parsed['child-pid'];
    } else {
      pid = await Promise.race([new Promise<number>((resolve) => child.once('spawn', () => resolve(child.pid as number))), exited]);
    }
    exited.catch(() => {});
    child.unref();
    return { pid, start: await processStart(pid) };
  } finally {
    closeSync(out);
  }
}

/**
 * SIGTERM, then SIGKILL once `graceMs` passed. `group` signals the whole process group (unsandboxed agents: their
 * scripts' background processes go too). Resolves once the process is gone.
 */
export async function terminate(p: ProcessRef, graceMs: number, group: boolean): Promise<'not running' | 'stopped' | 'killed'> {
  if (!(await isAlive(p))) return 'not running';
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(group ? -p.pid : p.pid, sig);
    } catch {
      // Gone between the check and the signal.
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(p))) {
      // The leader left; members of its group may not have.
      if (group) signal('SIGKILL');
      return 'stopped';
    }
    await sleep(50);
  }
  signal('SIGKILL');
  for (let i = 0; i < 100 && (await isAlive(p)); i++) await sleep(20);
  return 'killed';
}
