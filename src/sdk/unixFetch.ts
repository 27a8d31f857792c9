import http from 'node:http';

/**
 * A `fetch` that sends every request over one unix socket, whatever the URL's host (Node's built-in fetch cannot be
 * pointed at a socket without undici's dispatcher API). Only what the SDK uses: method, headers, a string or byte body,
 * an abort signal; the response body is buffered, which suits the small JSON documents of the agent API.
 */
export function unixSocketFetch(socketPath: string): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const body = init.body as string | Uint8Array | undefined | null;
      if (body != null) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
      const req = http.request({ socketPath, method: init.method ?? 'GET', path: url.pathname + url.search, headers: { host: url.host, ...headers }, signal: init.signal ?? undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 502;
          // A Response cannot carry a body with these statuses.
          const noBody = status === 204 || status === 304;
          resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: h }));
        });
      });
      req.on('error', reject);
      if (body != null) req.write(body);
      req.end();
    });
}
