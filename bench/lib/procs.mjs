// Child processes of the benchmark (kiln servers, the bare Fastify reference) and their memory.
import { clearInterval, setInterval } from 'node:timers';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const children = new Set();

/**
 * Starts `node <script>` and resolves once it prints "READY <url>". The process environment is the one `kiln server`
 * runs with: bin/kiln-env.sh (the C allocator's settings) is sourced first, as bin/kiln does.
 */
async function startChild(script, args, env, nodeArgs = []) {
  const envScript = path.join(here, '../../bin/kiln-env.sh');
  const child = spawn('/bin/sh', ['-c', '. "$0"; exec "$@"', envScript, process.execPath, ...nodeArgs, path.join(here, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let out = '';
  child.stderr.on('data', (d) => {
    out += d;
    if (out.length > 20_000) out = out.slice(-10_000);
  });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /READY (\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited ${code} before it was ready:\n${out}`)));
  });
  child.stdout.resume();
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    }
    children.delete(child);
  };
  return { pid: child.pid, url, stop, stderr: () => out };
}

/** A kiln server (bench/lib/server-child.mjs) on an existing PostgreSQL. `cpuProfDir` profiles it. */
export function startKiln(cfg, { cpuProfDir } = {}) {
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  return startChild('server-child.mjs', [], { KILN_BENCH_CONFIG: JSON.stringify(cfg) }, nodeArgs);
}

export function startBare(buildFile, listFile, pgUrl) {
  return startChild('bare-child.mjs', pgUrl ? [buildFile, listFile, pgUrl] : [buildFile, listFile], {});
}

/** Kills every child still running (used on failure paths). */
export async function stopAll() {
  await Promise.all([...children].map((c) => {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    return new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', r)));
  }));
  children.clear();
}

/** Resident set size of a process, in MB (from /proc). */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Samples a server's RSS and the PostgreSQL backends in use every 100 ms while a load runs; `stop()` returns the
 * peaks. Backends are client connections other than the benchmark's own.
 */
export function startSampler(pid, db) {
  let peakRss = rssMb(pid);
  let peakBackends = 0;
  let busy = false;
  const timer = setInterval(async () => {
    peakRss = Math.max(peakRss, rssMb(pid));
    if (busy) return;
    busy = true;
    try {
      const { rows } = await db.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = current_database() AND application_name <> 'kiln-bench'",
      );
      peakBackends = Math.max(peakBackends, rows[0].n);
    } catch {
      // the sampler never fails a benchmark
    } finally {
      busy = false;
    }
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return { peakRss: Math.max(peakRss, rssMb(pid)), peakBackends };
    },
  };
}
