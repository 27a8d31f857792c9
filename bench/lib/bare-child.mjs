// The reference: a bare Fastify app serving the same JSON bytes kiln answers GET /workspacebuilds/{id} (and the build list) with, no
// auth, no database. GET and POST (POST parses its JSON body, as kiln does). Prints "READY <url>".
import { clearInterval, setInterval } from 'node:timers';
import { readFileSync } from 'node:fs';

import Fastify from 'fastify';
import pg from 'pg';
import { WebSocketServer } from 'ws';

const build = readFileSync(process.argv[2]);
const list = readFileSync(process.argv[3]);
const app = Fastify({ logger: false });
const send = (body) => (_req, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(body);
app.get('/api/v2/workspacebuilds/:id', send(build));
app.get('/api/v2/workspaces/:id/builds', send(list));
// The reference "bare Fastify + one prepared SELECT returning the same JSON": the build's bytes stored in a table by
// the benchmark (bench_json, primary key), read by one named (prepared) statement per request, on a pool as large as
// kiln's (20).
if (process.argv[4]) {
  const pool = new pg.Pool({ connectionString: process.argv[4], max: 20 });
  app.get('/select/api/v2/workspacebuilds/:id', async (_req, reply) => {
    const { rows } = await pool.query({ name: 'bench_ref', text: 'SELECT body FROM bench_json WHERE id = $1', values: [1] });
    return reply.header('content-type', 'application/json; charset=utf-8').send(rows[0].body);
  });
}
app.post('/api/v2/workspaces/:id/builds', (_req, reply) => reply.code(201).header('content-type', 'application/json; charset=utf-8').send(build));
// The follower reference: a bare WebSocket fan-out. GET /bcast/start?n&ms sends n messages, one every ms, each
// carrying its send time, to every socket connected to /bcast.
let wss;
app.get('/bcast/start', (req, reply) => {
  const n = Number(req.query.n);
  const ms = Number(req.query.ms);
  let sent = 0;
  const t = setInterval(() => {
    const msg = JSON.stringify({ id: ++sent, created_at: new Date().toISOString(), output: `line ${sent}` });
    for (const c of wss.clients) c.send(msg);
    if (sent >= n) {
      clearInterval(t);
      for (const c of wss.clients) c.close(1000);
    }
  }, ms);
  reply.send({ ok: true });
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
wss = new WebSocketServer({ server: app.server, path: '/bcast' });
console.log(`READY ${url}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
