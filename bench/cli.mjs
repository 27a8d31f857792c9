// CLI start-up time: `kiln --version` (no server involved) and `kiln list` (one authenticated API call), each run N
// times as a fresh process, reporting the median (a hyperfine-like loop, without hyperfine).
//
//   node bench/cli.mjs [--runs 20]
//
// `kiln list` runs against KILN_URL / KILN_SESSION_TOKEN when both are set; otherwise against a throw-away
// `kiln server --dev` (embedded PostgreSQL in a temp dir) with two workspaces, stopped afterwards. Needs dist/.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'kiln.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
const WARMUP = 3;

/** Wall time of one `node bin/kiln.js <args>` process, in ms; a non-zero exit aborts the benchmark. */
function timeOnce(args, env) {
  const start = process.hrtime.bigint();
  // `node -e 0` is the reference: the same process start, the same environment, no kiln.
  const argv = args[0] === '-e' ? args : [BIN, ...args];
  const r = spawnSync(process.execPath, argv, { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`kiln ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function measure(label, args, env) {
  for (let i = 0; i < WARMUP; i++) timeOnce(args, env);
  const times = Array.from({ length: RUNS }, () => timeOnce(args, env)).sort((a, b) => a - b);
  const pick = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  const f = (n) => n.toFixed(1);
  console.log(`${label.padEnd(16)} median ${f(median)} ms   min ${f(times[0])}  p90 ${f(pick(0.9))}  max ${f(times[times.length - 1])}   (${RUNS} runs, ${WARMUP} warm-up)`);
  return median;
}

/** Starts `kiln server --dev` and resolves with its URL and the token it prints. */
async function startDevServer(dataDir) {
  const child = spawn(process.execPath, [BIN, 'server', '--dev', '--address', '127.0.0.1:0', '--data-dir', dataDir, '--provisioner-daemons', '2', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    const token = /^\s+token:\s+(\S+)/m.exec(out)?.[1];
    if (url && token) return { child, url, token, exited };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`kiln server --dev did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const baseEnv = { PATH: process.env.PATH, HOME: os.tmpdir(), NO_COLOR: '1' };
console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}`);
measure('node -e 0', ['-e', '0'], baseEnv);
measure('kiln --version', ['--version'], baseEnv);

let server;
let tmp;
try {
  let env;
  if (process.env.KILN_URL && process.env.KILN_SESSION_TOKEN) {
    env = { ...baseEnv, KILN_URL: process.env.KILN_URL, KILN_SESSION_TOKEN: process.env.KILN_SESSION_TOKEN };
  } else {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-cli-'));
    // As root, PostgreSQL runs as the postgres user, which must be able to enter the temp dir.
    await chmod(tmp, 0o711);
    server = await startDevServer(path.join(tmp, 'data'));
    env = { ...baseEnv, KILN_URL: server.url, KILN_SESSION_TOKEN: server.token };
    for (const name of ['bench-a', 'bench-b']) timeOnce(['create', name, '-t', 'echo'], env);
  }
  measure('node -e 0 (env)', ['-e', '0'], env);
  measure('kiln list', ['list'], env);
} finally {
  if (server) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
}
