import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { FastifyInstance } from 'fastify';

import { AGENT_BUNDLE_PATH } from '../../provisionersdk/agentScript.js';
import { ApiError } from '../http/errors.js';

/**
 * The standalone agent at a stable URL (Coder serves its agent binaries under /bin/): `coder_agent.init_script`
 * downloads it from the access URL. Unauthenticated, like Coder's: it is the same public file for everyone; the agent
 * token is what grants access. Built by `npm run build` into dist/bin/ (scripts/build-agent.mjs).
 */

// This file sits at src/api/routes/ and, compiled, at dist/api/routes/: the package root is three up.
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEFAULT_AGENT_BUNDLE = path.join(PACKAGE_ROOT, 'dist', 'bin', 'kiln-agent.js');

export async function agentBinaryRoutes(app: FastifyInstance, opts: { file?: string } = {}): Promise<void> {
  const file = opts.file ?? DEFAULT_AGENT_BUNDLE;
  // Read once and kept: the file only changes with a new build, which means a new server.
  let cached: Buffer | undefined;
  app.get(AGENT_BUNDLE_PATH, { schema: { hide: true } }, async (_req, reply) => {
    cached ??= await readFile(file).catch(() => undefined);
    if (!cached) throw new ApiError(404, 'The agent bundle is not built.', 'Run `npm run build` to build dist/bin/kiln-agent.js.');
    return reply.headers({ 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }).type('text/javascript; charset=utf-8').send(cached);
  });
}
