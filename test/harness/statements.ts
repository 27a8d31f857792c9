import { PgPubsub, type Pubsub } from '../../src/db/pubsub.js';
import { withStatementCounter } from '../../src/db/statementCount.js';

import type { TestServer } from './server.js';

/**
 * Statements `fn` sends, counted where they are sent (the pool wrapper), as the server counts a request's, including
 * the notification statement it started (`publish` does not wait for it; an operation that does not await its publish
 * would otherwise be counted with or without it depending on which round trip ends first). Waits for the flushes of
 * earlier operations first, so each operation's notifications leave in a flush of its own.
 */
export async function countStatements<T>(pubsub: Pubsub, fn: () => Promise<T>): Promise<{ n: number; value: T }> {
  if (!(pubsub instanceof PgPubsub)) throw new Error('statements are counted on a server that notifies through PostgreSQL');
  await pubsub.settled();
  const c = { statements: 0 };
  const value = await withStatementCounter(c, async () => {
    const v = await fn();
    await pubsub.settled();
    return v;
  });
  return { n: c.statements, value };
}

/** The statements the server has counted for a route's requests so far (its per-request count, on /metrics). */
export async function routeStatements(srv: TestServer, method: string, route: string): Promise<number> {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`kiln_http_request_sql_statements_sum{method="${method}",route="${route}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}
