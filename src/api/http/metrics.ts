import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { Pool } from '../../db/pool.js';
import { currentStatementCounter, type StatementCounter } from '../../db/statementCount.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The SQL statements this request sent so far (counted by the pool wrapper). */
    sqlStatements?: StatementCounter;
  }
}

/** Prometheus metrics, one registry per app (tests run several apps in one process). */
export function installMetrics(app: FastifyInstance, pool: Pool): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kiln_process_' });
  const requests = new Counter({
    name: 'kiln_http_requests_total',
    help: 'HTTP requests answered, by route template, method and status code.',
    labelNames: ['method', 'route', 'code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'kiln_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template and method.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const statements = new Histogram({
    name: 'kiln_http_request_sql_statements',
    help: 'SQL statements one HTTP request sent, counted by the server where it sends them, by route template and method.',
    labelNames: ['method', 'route'],
    buckets: [0, 1, 2, 3, 4, 6, 8, 12, 16, 32],
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  gauge('kiln_db_pool_connections', 'Connections the database pool holds.', () => pool.totalCount);
  gauge('kiln_db_pool_idle_connections', 'Idle connections in the database pool.', () => pool.idleCount);
  gauge('kiln_db_pool_waiting_requests', 'Queries waiting for a free connection.', () => pool.waitingCount);

  app.addHook('onRequest', async (req) => {
    req.sqlStatements = currentStatementCounter();
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    if (req.sqlStatements) statements.observe({ method: req.method, route }, req.sqlStatements.statements);
    requests.inc({ method: req.method, route, code: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  return registry;
}
