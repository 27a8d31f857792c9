import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { sleep } from '../../lib/backoff.js';

/** Resource limits of one workspace (kiln.json `limits`, docs/templates.md). */
export interface Limits {
  memoryMb: number;
  pids: number;
  /** CPU time as a number of cores (0.5 = half of one). */
  cpus: number;
  /** Reported by the build (home size check), not enforced by cgroups. */
  diskMb: number;
}

export const DEFAULT_LIMITS: Limits = { memoryMb: 2048, pids: 1024, cpus: 1, diskMb: 10240 };

const ROOT = '/sys/fs/cgroup';
const CFS_PERIOD_US = 100_000;

/**
 * One workspace's cgroup: v1 (a directory per controller, as on hosts with the legacy hierarchy) or v2 (one unified
 * directory). It is both the limit and the tracker: every process of the workspace is in it, so stop and delete find
 * exactly those processes, whatever the build state says.
 */
export interface WorkspaceCgroup {
  version: 1 | 2;
  /** The cgroup.procs files a new process writes its pid into. */
  procsFiles: string[];
  pids(): Promise<number[]>;
  /** Sets the limits (again on every start: a new template version may change them). */
  apply(l: Limits): Promise<void>;
  /** SIGKILLs every process until none is left, then removes the cgroup. */
  destroy(): Promise<void>;
  /**
   * What the kernel counted (for tests and logs): forks refused at pids.max, OOM kills, and the peak memory use against
   * the limit (a workspace held at its limit may be reclaimed from rather than killed).
   */
  events(): Promise<{ pidsMax: number; oomKills: number; memoryPeak: number; memoryLimit: number }>;
}

const writable = (p: string) => access(p, 2 /* W_OK */).then(() => true, () => false);

type Layout = { version: 1; dirs: { memory: string; pids: string; cpu: string } } | { version: 2; dir: string };

let layout: Promise<Layout | undefined> | undefined;

/** Which hierarchy kiln may create workspace cgroups in, if any (v1 controllers writable, or a v2 root it can use). */
function detect(): Promise<Layout | undefined> {
  layout ??= (async () => {
    if (await writable(path.join(ROOT, 'cgroup.subtree_control'))) {
      // v2: controllers are enabled for children of the root, then for kiln's own subtree.
      const base = path.join(ROOT, 'kiln');
      try {
        await writeFile(path.join(ROOT, 'cgroup.subtree_control'), '+memory +pids +cpu');
        await mkdir(base, { recursive: true });
        await writeFile(path.join(base, 'cgroup.subtree_control'), '+memory +pids +cpu');
        return { version: 2, dir: base };
      } catch {
        return undefined;
      }
    }
    const dirs = { memory: path.join(ROOT, 'memory'), pids: path.join(ROOT, 'pids'), cpu: path.join(ROOT, 'cpu') };
    for (const d of Object.values(dirs)) if (!(await writable(path.join(d, 'cgroup.procs')))) return undefined;
    for (const d of Object.values(dirs)) await mkdir(path.join(d, 'kiln'), { recursive: true });
    return { version: 1, dirs: { memory: path.join(dirs.memory, 'kiln'), pids: path.join(dirs.pids, 'kiln'), cpu: path.join(dirs.cpu, 'kiln') } };
  })();
  return layout;
}

/** Whether workspaces get cgroups here; `why` says what is missing for the build log. */
export async function cgroupsAvailable(): Promise<{ ok: true } | { ok: false; why: string }> {
  if (await detect()) return { ok: true };
  return { ok: false, why: 'no writable cgroup hierarchy (cgroup v1 memory/pids/cpu or a v2 root with those controllers); run the server as root or delegate a cgroup to it' };
}

async function readPids(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

async function readNumber(file: string): Promise<number> {
  return Number((await readFile(file, 'utf8').catch(() => '0')).trim()) || 0;
}

async function readKey(file: string, key: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * The cgroup of a workspace, named by its id (never by anything from the build state); undefined without cgroups, or
 * when `create` is false and the workspace has none (nothing of it runs).
 */
export async function workspaceCgroup(workspaceId: string, create = true): Promise<WorkspaceCgroup | undefined> {
  const l = await detect();
  if (!l) return undefined;
  const probe = l.version === 2 ? path.join(l.dir, workspaceId) : path.join(l.dirs.pids, workspaceId);
  if (!create && !(await access(probe).then(() => true, () => false))) return undefined;
  const killAll = async (procsFile: string, dirs: string[]) => {
    // pids.max bounds a fork bomb, so killing in rounds ends; the bound is there for a cgroup that cannot empty.
    for (let round = 0; round < 500; round++) {
      const pids = await readPids(procsFile);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await sleep(round < 10 ? 10 : 50);
    }
    for (const d of dirs) await rmdir(d).catch(() => {});
  };
  if (l.version === 2) {
    const dir = path.join(l.dir, workspaceId);
    await mkdir(dir, { recursive: true });
    return {
      version: 2,
      procsFiles: [path.join(dir, 'cgroup.procs')],
      pids: () => readPids(path.join(dir, 'cgroup.procs')),
      async apply(lim) {
        await writeFile(path.join(dir, 'memory.max'), String(lim.memoryMb * 1024 * 1024));
        await writeFile(path.join(dir, 'memory.swap.max'), '0').catch(() => {});
        await writeFile(path.join(dir, 'pids.max'), String(lim.pids));
        await writeFile(path.join(dir, 'cpu.max'), `${Math.round(lim.cpus * CFS_PERIOD_US)} ${CFS_PERIOD_US}`);
      },
      async destroy() {
        // cgroup.kill (Linux 5.14+) ends everything at once; the loop covers older kernels.
        await writeFile(path.join(dir, 'cgroup.kill'), '1').catch(() => {});
        await killAll(path.join(dir, 'cgroup.procs'), [dir]);
      },
      events: async () => ({
        pidsMax: await readKey(path.join(dir, 'pids.events'), 'max'),
        oomKills: await readKey(path.join(dir, 'memory.events'), 'oom_kill'),
        memoryPeak: await readNumber(path.join(dir, 'memory.peak')),
        memoryLimit: await readNumber(path.join(dir, 'memory.max')),
      }),
    };
  }
  const dirs = { memory: path.join(l.dirs.memory, workspaceId), pids: path.join(l.dirs.pids, workspaceId), cpu: path.join(l.dirs.cpu, workspaceId) };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  return {
    version: 1,
    procsFiles: Object.values(dirs).map((d) => path.join(d, 'cgroup.procs')),
    pids: () => readPids(path.join(dirs.pids, 'cgroup.procs')),
    async apply(lim) {
      await writeFile(path.join(dirs.memory, 'memory.limit_in_bytes'), String(lim.memoryMb * 1024 * 1024));
      // Without swap accounting the file is absent; with it, swap must not become the way around the limit.
      await writeFile(path.join(dirs.memory, 'memory.memsw.limit_in_bytes'), String(lim.memoryMb * 1024 * 1024)).catch(() => {});
      await writeFile(path.join(dirs.pids, 'pids.max'), String(lim.pids));
      await writeFile(path.join(dirs.cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
      await writeFile(path.join(dirs.cpu, 'cpu.cfs_quota_us'), String(Math.round(lim.cpus * CFS_PERIOD_US)));
    },
    async destroy() {
      await killAll(path.join(dirs.pids, 'cgroup.procs'), Object.values(dirs));
    },
    events: async () => ({
      pidsMax: await readKey(path.join(dirs.pids, 'pids.events'), 'max'),
      oomKills: await readKey(path.join(dirs.memory, 'memory.oom_control'), 'oom_kill'),
      memoryPeak: await readNumber(path.join(dirs.memory, 'memory.max_usage_in_bytes')),
      memoryLimit: await readNumber(path.join(dirs.memory, 'memory.limit_in_bytes')),
    }),
  };
}
