// CPU time of the processes a benchmark load runs on, from /proc (Linux): the kiln server, PostgreSQL (the postmaster,
// its live backends, and the backends that already exited), and the benchmark process itself (the load generator).
// Reported next to a figure, it says which process the load was waiting for: computed by the run, not written by hand.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const TICKS = 100; // USER_HZ on Linux

function statFields(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of a process, and of its waited-for children when `children` (seconds). */
function seconds(pid, children = false) {
  const f = statFields(pid);
  if (!f) return 0;
  // Fields after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  const own = Number(f[11]) + Number(f[12]);
  return (own + (children ? Number(f[13]) + Number(f[14]) : 0)) / TICKS;
}

function childrenOf(ppid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(d);
    if (f && Number(f[1]) === ppid) out.push(Number(d));
  }
  return out;
}

/** PostgreSQL's CPU seconds so far: the postmaster, its exited children, and its live ones. */
function postgresSeconds(postmasterPid) {
  return seconds(postmasterPid, true) + childrenOf(postmasterPid).reduce((a, pid) => a + seconds(pid), 0);
}

function benchSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Starts counting; `stop()` returns the cores each side used on average over the interval (CPU seconds ÷ wall
 * seconds): `{ kiln, postgres, bench, wallS }`.
 */
export function startCpu(kilnPid, postmasterPid) {
  const t0 = performance.now();
  const k0 = seconds(kilnPid);
  const p0 = postgresSeconds(postmasterPid);
  const b0 = benchSeconds();
  return {
    stop() {
      const wall = (performance.now() - t0) / 1000;
      return { kiln: (seconds(kilnPid) - k0) / wall, postgres: (postgresSeconds(postmasterPid) - p0) / wall, bench: (benchSeconds() - b0) / wall, wallS: wall };
    },
  };
}

/** Several intervals (one per run) summed into one average. */
export function mergeCpu(list) {
  const wall = list.reduce((a, c) => a + c.wallS, 0);
  const avg = (k) => list.reduce((a, c) => a + c[k] * c.wallS, 0) / wall;
  return { kiln: avg('kiln'), postgres: avg('postgres'), bench: avg('bench'), wallS: wall };
}

/** "kiln 0.62, PostgreSQL 1.21, load generator 0.15 cores (of N)": for a figure's note. */
export function cpuText(c, cores) {
  return `CPU during the runs: kiln ${c.kiln.toFixed(2)}, PostgreSQL ${c.postgres.toFixed(2)}, load generator ${c.bench.toFixed(2)} cores (of ${cores})`;
}
