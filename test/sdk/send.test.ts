import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { defaultSend } from '../../src/sdk/nodeSend.js';
import { sendWithFetch, type Send } from '../../src/sdk/send.js';

/**
 * The SDK sends with node:http in Node and with fetch elsewhere (src/sdk/send.ts): both must answer alike, for the
 * same requests to a real server, including how a refused connection fails (the CLI's message reads it).
 */
describe('the SDK\'s two ways to send', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/empty') return void res.writeHead(204).end();
        if (req.url === '/bytes') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0, 1, 2, 255]));
        if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('late'), 5_000).unref();
        res.writeHead(req.method === 'POST' ? 201 : 404, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] });
        res.end(JSON.stringify({ method: req.method, url: req.url, token: req.headers['coder-session-token'] ?? null, length: req.headers['content-length'] ?? null, body: body.toString('utf8') }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const sends: [string, Send][] = [['node:http', defaultSend], ['fetch', sendWithFetch((i, init) => fetch(i, init))]];

  async function exchange(send: Send, path: string, method = 'GET', body?: string | Uint8Array) {
    const r = await send({ method, url: new URL(path, base), headers: { 'Coder-Session-Token': 'tok', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) }, body });
    return { status: r.status, type: r.header('Content-Type'), multi: r.header('x-multi'), bytes: [...(await r.bytes())] };
  }

  it('answer alike: a JSON body with its length, an empty answer, bytes, an error status, a header given twice', async () => {
    const answers = [];
    for (const [, send] of sends) {
      answers.push([
        await exchange(send, '/api/thing?x=1', 'POST', JSON.stringify({ é: 'ü' })),
        await exchange(send, '/api/thing', 'POST', new Uint8Array([123, 125])),
        await exchange(send, '/empty', 'DELETE'),
        await exchange(send, '/bytes'),
        await exchange(send, '/missing'),
      ]);
    }
    assert.deepEqual(answers[0], answers[1]);
    const first = JSON.parse(Buffer.from(answers[0]?.[0]?.bytes ?? []).toString('utf8'));
    assert.deepEqual(first, { method: 'POST', url: '/api/thing?x=1', token: 'tok', length: String(Buffer.byteLength(JSON.stringify({ é: 'ü' }))), body: '{"é":"ü"}' });
    assert.equal(answers[0]?.[2]?.status, 204);
    assert.deepEqual(answers[0]?.[3]?.bytes, [0, 1, 2, 255]);
    assert.equal(answers[0]?.[4]?.status, 404);
    assert.equal(answers[0]?.[4]?.multi, 'a, b');
  });

  it('fail alike: a refused connection is "fetch failed" with the reason in cause; an abort rejects', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    for (const [name, send] of sends) {
      await assert.rejects(send({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`), headers: {} }), (e: unknown) => {
        assert.ok(e instanceof TypeError, name);
        assert.equal(e.message, 'fetch failed', name);
        assert.equal((e.cause as { code?: string }).code, 'ECONNREFUSED', name);
        return true;
      });
      const ac = new AbortController();
      const pending = send({ method: 'GET', url: new URL('/slow', base), headers: {}, signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      await assert.rejects(pending, (e: unknown) => (e as Error).name === 'AbortError');
    }
  });
});
