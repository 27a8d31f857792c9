// Enforces kiln's layering (docs/ARCHITECTURE.md) by reading every relative import under src/.
// Only api/ and jobs/ touch the database; sdk/ and lib/ are leaves, provisionersdk/ uses only the SDK's wire shapes; daemons, provisioners, the agent
// and the CLI talk to the server through the SDK. A dependency-free check: the TypeScript `.js` specifiers resolve
// by path, so no module resolver is needed.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');

/** module → modules it may import (besides itself). `lib` may be used by everything but sdk/provisionersdk. */
const ALLOWED = {
  sdk: [],
  // The plugin contract reuses the SDK's wire shapes (parameter values, build metadata) instead of copying them.
  provisionersdk: ['sdk'],
  lib: [],
  db: ['lib'],
  jobs: ['db', 'lib', 'sdk', 'provisionersdk'],
  api: ['sdk', 'provisionersdk', 'db', 'jobs', 'lib'],
  provisionerd: ['sdk', 'provisionersdk', 'lib'],
  provisioners: ['provisionersdk', 'lib'],
  agent: ['sdk', 'lib'],
  cli: ['sdk', 'lib'],
  web: ['sdk'],
  // The composition root: wires the API, the database, the daemons and the provisioners together.
  server: ['api', 'db', 'jobs', 'lib', 'sdk', 'provisionersdk', 'provisionerd', 'provisioners'],
};
/**
 * Entry points the CLI dispatches to: `kiln server` starts src/server (the composition root), `kiln agent` runs the
 * agent, and `kiln provisionerd start` runs the daemon with provisioners from src/server/provisioners.ts. They parse flags and own signals; nothing else in cli/ reaches past the SDK.
 */
const COMPOSITION_ROOTS = new Set(['cli/commands/server.ts', 'cli/commands/agent.ts', 'cli/commands/provisionerd.ts']);

async function* walk(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') yield* walk(p);
    } else if (/\.(ts|tsx)$/.test(e.name) && !e.name.endsWith('.d.ts')) yield p;
  }
}

const problems = [];
for await (const file of walk(src)) {
  const rel = path.relative(src, file).split(path.sep).join('/');
  const from = rel.split('/')[0];
  if (!(from in ALLOWED)) continue;
  const text = await readFile(file, 'utf8');
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    const target = path.relative(src, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
    if (target.startsWith('..')) continue;
    const to = target.split('/')[0];
    if (to === from || ALLOWED[from].includes(to)) continue;
    if (COMPOSITION_ROOTS.has(rel)) continue;
    problems.push(`src/${rel}: imports src/${target} (${from} may not depend on ${to})`);
  }
}
if (problems.length) {
  console.error(`layering violations:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('layering ok');
