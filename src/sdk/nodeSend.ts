import http from 'node:http';
import https from 'node:https';

import type { Reply, Send } from './send.js';

/**
 * The SDK's way to send in Node: node:http over Node's global agents (keep-alive; idle sockets do not hold the process
 * open). The dashboard's bundle replaces this module with nodeSend.browser.ts (src/web/vite.config.ts). A connection
 * that fails is reported as fetch reports it (`TypeError: fetch failed`, the reason in `cause`), which the CLI's
 * error messages read (src/cli/errors.ts). Redirects are not followed: kiln's API answers none.
 */
export const defaultSend: Send = (r) =>
  new Promise<Reply>((resolve, reject) => {
    const headers: Record<string, string> = { ...r.headers };
    if (r.body !== undefined) headers['content-length'] = String(typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.byteLength);
    const failed = (e: unknown) => reject(r.signal?.aborted ? e : new TypeError('fetch failed', { cause: e }));
    const req = (r.url.protocol === 'https:' ? https : http).request(r.url, { method: r.method, headers, signal: r.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', failed);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 502,
          statusText: res.statusMessage ?? '',
          header: (name) => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
          text: async () => body.toString('utf8'),
          bytes: async () => new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
        });
      });
    });
    req.on('error', failed);
    req.end(r.body);
  });
