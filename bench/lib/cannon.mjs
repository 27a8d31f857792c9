// autocannon, promisified, reduced to the figures the report needs. Only ever aimed at 127.0.0.1.
import autocannon from 'autocannon';

/**
 * One load run. `paths` (optional) rotates the request path round-robin (e.g. one workspace per POST); `amount`
 * bounds the run by request count instead of `duration` seconds.
 */
export async function cannon({ url, path, method = 'GET', token, body, paths, connections = 50, duration = 10, amount }) {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to load ${url}: benchmarks only target 127.0.0.1`);
  let i = 0;
  const headers = { 'content-type': 'application/json', ...(token ? { 'coder-session-token': token } : {}) };
  const request = { method, path, headers, body: body ? JSON.stringify(body) : undefined };
  if (paths) request.setupRequest = (req) => ({ ...req, path: paths[i++ % paths.length] });
  const r = await autocannon({ url, connections, ...(amount ? { amount } : { duration }), requests: [request] });
  const total = r.requests.total;
  return {
    rps: amount ? total / Math.max(r.duration, 1e-3) : r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total,
    bad: r.non2xx + r.errors + r.timeouts,
  };
}
