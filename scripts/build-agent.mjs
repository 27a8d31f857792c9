// Bundles the workspace agent into one self-contained file, dist/bin/kiln-agent.js, that the server serves at
// /bin/kiln-agent.js: a machine with Node 20 runs it without a kiln checkout (the coder_agent init script fetches it).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

await build({
  entryPoints: [path.join(root, 'src/agent/standalone.ts')],
  outfile: path.join(root, 'dist/bin/kiln-agent.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Bundled CommonJS dependencies (pino, ws) call require(): give the ES module one.
  // ssh2 reads __dirname at load time: give it the bundle's.
  banner: {
    js:
      "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url); " +
      "import { fileURLToPath as __kilnPath } from 'node:url'; const __filename = __kilnPath(import.meta.url); const __dirname = __kilnPath(new URL('.', import.meta.url));",
  },
  define: { KILN_AGENT_VERSION: JSON.stringify(version) },
  // A native module cannot be bundled: the agent loads it when a terminal opens, and says so where it is missing.
  // ssh2's optional native helpers (sshcrypto, cpu-features) are loaded in a try: without them it runs in pure JS.
  external: ['@lydell/node-pty', '*.node'],
  legalComments: 'none',
  logLevel: 'warning',
});
