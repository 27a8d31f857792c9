import pg from 'pg';

// Return bigint (int8) columns as JS numbers: log ids and counts stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that can run a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

export function createPool(connectionString: string, max = 20): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 30_000, application_name: 'kiln' });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that would crash the server.
  pool.on('error', () => {});
  return pool;
}

/**
 * Runs `fn` in one transaction on one client. Inside `fn`, use only the given client: taking another connection from
 * the pool while holding this one is how pools starve.
 */
export async function inTx<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>, isolation?: 'serializable' | 'repeatable read'): Promise<T> {
  const client = await pool.connect();
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

/** SQLSTATE 23505: a unique constraint refused a row. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const err = e as { code?: string; constraint?: string } | null;
  return err?.code === '23505' && (constraint === undefined || err.constraint === constraint);
}
