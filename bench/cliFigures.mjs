// Figure 6: CLI start-up, from bench/cli.mjs (the CLI engineer's loop) run against the benchmark's server, next to
// `node -e 0` timed in the same loop with the same environment (kiln cannot start faster than node itself).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';


const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = 10;

export async function cliBenchmarks({ url, token }) {
  const r = spawnSync(process.execPath, [path.join(here, 'cli.mjs'), '--runs', String(RUNS)], {
    env: { ...process.env, KILN_URL: url, KILN_SESSION_TOKEN: token },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`bench/cli.mjs exited ${r.status}: ${r.stderr}`);
  const parse = (label) => {
    const m = new RegExp(`${label.replace(/[()]/g, '\\$&')}\\s+median ([\\d.]+) ms\\s+min ([\\d.]+)\\s+p90 [\\d.]+\\s+max ([\\d.]+)`).exec(r.stdout);
    if (!m) throw new Error(`no "${label}" line in bench/cli.mjs output:\n${r.stdout}`);
    return { median: Number(m[1]), min: Number(m[2]), max: Number(m[3]), runs: Array(RUNS).fill(0) };
  };
  const note = `${RUNS} fresh processes after 3 warm-ups (bench/cli.mjs)`;
  return [
    { key: 'cli.version', section: '6. CLI', label: 'kiln --version', unit: 'ms', note, value: parse('kiln --version'), ref: { label: 'node -e 0, same environment and loop', value: parse('node -e 0') } },
    { key: 'cli.list', section: '6. CLI', label: 'kiln list', unit: 'ms', note: `${note}; one authenticated API call`, value: parse('kiln list'), ref: { label: 'node -e 0, same environment and loop', value: parse('node -e 0 (env)') } },
  ];
}
