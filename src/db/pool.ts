import pg from 'pg';

import { countStatement } from './statementCount.js';

// Return bigint (int8) columns as JS numbers: log ids and counts stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that can run a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

export function createPool(connectionString: string, max = 20): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 30_000, application_name: 'kiln' });
  // Every statement sent through the pool counts for the request it runs in (see statementCount.ts); statements of
  // a transaction are counted in inTx, on its client.
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as { query: unknown }).query = (...args: unknown[]) => {
    countStatement();
    return query(...args);
  };
  // An idle client that loses its connection emits 'error' on the pool; without a listener that would crash the server.
  pool.on('error', () => {});
  // A client in use has no listener of the pool's: when the database goes away (a restart, a failover) it would emit
  // 'error' into the void and crash the process. Its query fails anyway, and the caller sees that.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * Runs `fn` in one transaction on one client. Inside `fn`, use only the given client: taking another connection from
 * the pool while holding this one is how pools starve.
 */
export async function inTx<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>, isolation?: 'serializable' | 'repeatable read'): Promise<T> {
  const client = countingClient(await pool.connect());
  try {
    await client.query(isolation ? `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}` : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** A transaction's client whose statements (BEGIN and COMMIT included) count for the unit of work. */
function countingClient(client: pg.PoolClient): pg.PoolClient {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (...args: unknown[]) => {
          countStatement();
          return query(...args);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** SQLSTATE 23505: a unique constraint refused a row. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const err = e as { code?: string; constraint?: string } | null;
  return err?.code === '23505' && (constraint === undefined || err.constraint === constraint);
}
