// The table printed at the end and bench/RESULTS.md.
import { cpuText } from './lib/cpu.mjs';
import { fmt } from './lib/stats.mjs';

const range = (v) => `${fmt(v.median)} (${fmt(v.min)}–${fmt(v.max)})`;
const ratio = (f) => (f.ref ? `${(f.value.median / f.ref.value.median).toFixed(2)}×` : '—');
const target = (f) => (f.target ? `${f.target.text} ${f.target.met ? '✓' : '✗ MISSED'}` : '');

export function table(figures) {
  const rows = figures.map((f) => [f.section, f.label, `${range(f.value)} ${f.unit}`, f.ref ? `${range(f.ref.value)} (${f.ref.label})` : '—', ratio(f), target(f)]);
  const head = ['', 'figure', 'median (min–max)', 'reference', 'ratio', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}

export function markdown({ machine, figures, memory, idle, notes, bottlenecks, bottlenecksAsOf, cores }) {
  const out = [];
  out.push('# kiln benchmarks', '', 'Written by `npm run bench` (bench/run.mjs). Every figure is the median of the runs shown, with min–max, next to a reference measured in the same run on the same machine; the ratio is kiln ÷ reference. Absolute numbers drift on a shared machine; ratios drift less.', '');
  out.push('## Machine', '');
  for (const [k, v] of Object.entries(machine)) out.push(`- ${k}: ${v}`);
  out.push('', '## Figures', '', '| section | figure | median (min–max) | reference, same run | ratio | target | runs, notes |', '|---|---|---|---|---|---|---|');
  for (const f of figures) {
    const cpu = f.cpu && (f.key.endsWith('.rps') || !f.key.match(/\.(p50|p99)$/)) ? `; ${cpuText(f.cpu, cores)}` : '';
    out.push(`| ${f.section} | ${f.label} | ${range(f.value)} ${f.unit} | ${f.ref ? `${range(f.ref.value)} — ${f.ref.label}` : '—'} | ${ratio(f)} | ${target(f)} | ${f.value.runs.length} runs${f.note ? `; ${f.note}` : ''}${cpu} |`);
  }
  out.push('', '## 4. Memory and PostgreSQL backends', '', `Server RSS idle (3 daemons, after start-up and a 2 s settle, PostgreSQL apart): **${fmt(idle.rss)} MB** — target ≤ 150 MB ${idle.rss <= 150 ? '✓' : '✗ MISSED'}; reference: a bare Fastify process idle, ${fmt(idle.bareRss)} MB.`, '');
  out.push('| load | peak server RSS (MB) | target | peak PostgreSQL client backends |', '|---|---|---|---|');
  for (const m of memory) out.push(`| ${m.load} | ${fmt(m.peakRss)} | ${m.targetMb ? `≤ ${m.targetMb} MB ${m.peakRss <= m.targetMb ? '✓' : '✗ MISSED'}` : ''} | ${m.peakBackends} |`);
  out.push('', '## Notes on method', '');
  for (const n of notes) out.push(`- ${n}`);
  out.push('', '## Missed targets and their bottlenecks', '');
  const missed = figures.filter((f) => f.target && !f.target.met);
  if (idle.rss > 150) missed.push({ key: 'rss.idle', label: 'idle RSS', target: { text: '≤ 150 MB' } });
  for (const m of memory) if (m.targetMb && m.peakRss > m.targetMb) missed.push({ key: 'rss.load', label: `peak server RSS, ${m.load} (${fmt(m.peakRss)} MB)`, target: { text: `≤ ${m.targetMb} MB` } });
  if (missed.length === 0) out.push('None.');
  for (const f of missed) {
    const known = bottlenecks[f.key] ?? bottlenecks[f.key.split('.')[0]];
    // Measured by this run: where the CPU went while the figure's load ran.
    const measured = f.cpu ? `Measured by this run: ${cpuText(f.cpu, cores)}; ${busiest(f.cpu, cores)}. ` : '';
    // Hand-written analysis is dated with the commit it came from; this run did not measure it.
    out.push(`- **${f.label}** (target ${f.target.text}): ${measured}${known ? `${known} _(analysis written by hand at commit ${bottlenecksAsOf}; not measured by this run)_` : 'No analysis written for this figure: profile it with `node bench/run.mjs --profile`.'}`);
  }
  out.push('');
  return out.join('\n');
}

/** Which process the load spent the machine's CPU in, computed from the run's counts. */
function busiest(c, cores) {
  const sides = [['kiln', c.kiln], ['PostgreSQL', c.postgres], ['the load generator', c.bench]].sort((a, b) => b[1] - a[1]);
  const total = c.kiln + c.postgres + c.bench;
  const pct = Math.round((100 * total) / cores);
  const state = pct >= 85 ? 'saturated' : pct >= 60 ? 'busy' : 'mostly idle: a chain of waits (one process, one connection or one round trip at a time), not the CPU, bounds this figure';
  const one = sides[0][1] >= 0.8 && sides[0][1] < 1.2 ? ` — about one core's worth, what one single-threaded process or one PostgreSQL backend can give` : '';
  return `the ${cores} cores were ${pct}% busy (${state}), most of it in ${sides[0][0]} (${Math.round((100 * sides[0][1]) / total)}%, ${sides[0][1].toFixed(2)} cores${one})`;
}
