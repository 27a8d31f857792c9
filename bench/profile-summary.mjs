// Summarizes a V8 .cpuprofile (from `node bench/run.mjs --profile`): self time by function and by file.
//
//   node bench/profile-summary.mjs bench/.work/profiles/<file>.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const topArg = process.argv.indexOf('--top');
const TOP = topArg > 0 ? Number(process.argv[topArg + 1]) : 25;
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const files = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const where = cf.url.replace(/^.*\/(node_modules\/|dist\/)/, '$1') || '(native)';
  const k = `${cf.functionName || '(anonymous)'}  ${where}:${cf.lineNumber + 1}`;
  fn.set(k, (fn.get(k) ?? 0) + us);
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (where.startsWith('dist/') ? where : where.startsWith('node:') ? 'node core' : where);
  files.set(pkg, (files.get(pkg) ?? 0) + us);
}
const show = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
console.log(`total ${(total / 1e6).toFixed(1)} s sampled\n\nby package/file:\n${show(files)}\n\nby function:\n${show(fn)}`);
