import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The dashboard: the Vite build in `<package root>/dist/web`, served as static files, with `index.html` for every other
 * GET outside `/api` so reloads and shared links of client-side routes work. Registered after every API route; API
 * paths that match nothing still get the JSON error envelope.
 */

// This file sits at src/api/routes/web.ts and, compiled, at dist/api/routes/web.js: the package root is three up.
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEFAULT_WEB_ROOT = path.join(PACKAGE_ROOT, 'dist', 'web');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
};

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>kiln</title>
<p>The kiln dashboard is not built. Run <code>npm run build</code> (<code>npm ci</code> does it) and reload.</p>
<p>The API is available under <code>/api/v2</code>.</p>`;

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The file under `root` that a URL path names, or null when the path leaves `root` or names no file. */
async function resolveFile(root: string, urlPath: string): Promise<string | null> {
  if (urlPath.includes('\0')) return null;
  const rel = path.posix.normalize(`/${urlPath}`).replace(/^\/+/, '');
  if (rel === '') return null;
  const full = path.join(root, rel);
  if (!full.startsWith(root + path.sep)) return null;
  return (await isFile(full)) ? full : null;
}

export async function webRoutes(app: FastifyInstance, opts: { root?: string } = {}): Promise<void> {
  const root = path.resolve(opts.root ?? DEFAULT_WEB_ROOT);

  const sendIndex = async (reply: FastifyReply) => {
    const index = path.join(root, 'index.html');
    if (!(await isFile(index))) return reply.code(503).headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    return reply.headers({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' }).type(CONTENT_TYPES['.html']!).send(await readFile(index));
  };

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const urlPath = (req.params as { '*'?: string })['*'] ?? '';
    if (urlPath === 'api' || urlPath.startsWith('api/')) return reply.callNotFound();
    const file = await resolveFile(root, urlPath);
    if (file) {
      if (path.basename(file) === 'index.html') return sendIndex(reply);
      // Vite puts content-hashed names under assets/: they never change, so browsers may keep them for good.
      const immutable = urlPath.startsWith('assets/');
      return reply
        .headers({ ...SECURITY_HEADERS, 'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' })
        .type(CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream')
        .send(await readFile(file));
    }
    // A missing asset is a real 404; any other path is a client-side route of the single-page app.
    if (urlPath.startsWith('assets/')) return reply.callNotFound();
    return sendIndex(reply);
  };

  app.get('/', { schema: { hide: true } }, handler);
  app.get('/*', { schema: { hide: true } }, handler);
}
