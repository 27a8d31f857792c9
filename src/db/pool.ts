import pg from 'pg';

import { countStatement } from './statementCount.js';

// Return bigint (int8) columns as JS numbers: log ids and counts stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that can run a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

export interface PoolOptions {
  max?: number;
  /** How long a caller waits for a connection (a free slot, or a new connection to open) before failing. */
  connectionTimeoutMs?: number;
  /** Server-side cap on one statement; 0 disables it (migrations). */
  statementTimeoutMs?: number;
  /** Names the pool in pg_stat_activity (`kiln`, `kiln-engine`). */
  applicationName?: string;
  /**
   * Plan every named statement once, for any values (plan_cache_mode = force_generic_plan). kiln's statements are
   * written for that (plain bounds, no `$n IS NULL OR …` around an index column); left to itself, PostgreSQL re-plans
   * the large view statements on every execution once a table grows, which costs more than running them.
   */
  genericPlans?: boolean;
}

export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * A pool whose waits are bounded (no request queues forever for a connection, no statement runs forever) and whose
 * reads survive a dropped connection: a read-only statement (or one marked idempotent) that fails because its
 * connection died (a backend killed, PostgreSQL restarting) is retried once on a fresh connection.
 */
export function createPool(connectionString: string, maxOrOptions: number | PoolOptions = 20): pg.Pool {
  const o: PoolOptions = typeof maxOrOptions === 'number' ? { max: maxOrOptions } : maxOrOptions;
  const statementTimeout = o.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString,
    max: o.max ?? 20,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: o.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
    application_name: o.applicationName ?? 'kiln',
    ...(o.genericPlans ? { options: '-c plan_cache_mode=force_generic_plan' } : {}),
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that would crash the server.
  pool.on('error', () => {});
  // A client in use has no listener of the pool's: when the database goes away (a restart, a failover) it would emit
  // 'error' into the void and crash the process. Its query fails anyway, and the caller sees that.
  pool.on('connect', (client) => client.on('error', () => {}));
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  const max = o.max ?? 20;
  (pool as { query: unknown }).query = async (...args: unknown[]) => {
    // After every backend was killed, several pooled connections may be dead: each failure discards one, so a read
    // may meet a few in a row. Bounded by the pool size; a database that refuses new connections is not retried.
    for (let attempt = 0; ; attempt++) {
      try {
        // Every statement sent through the pool (a retry too) counts for the request it runs in (statementCount.ts);
        // statements of a transaction are counted in inTx, on its client.
        countStatement();
        const result = await query(...args);
        if (!isReadOnly(args[0])) announceWrites([statementText(args[0])]);
        return result;
      } catch (e) {
        if (!isDeadConnection(e) || !isRetryable(args[0]) || attempt >= max) throw e;
      }
    }
  };
  return pool;
}

/** A pooled connection that died (backend terminated, server restarted), as opposed to one that cannot be opened. */
function isDeadConnection(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | null;
  if (!err) return false;
  if (err.code === '57P01' || err.code === '57P02' || err.code === '08006' || err.code === '08003' || err.code === 'ECONNRESET' || err.code === 'EPIPE') return true;
  return /Connection terminated unexpectedly|not queryable/i.test(err.message ?? '');
}

/** Marks a write that may run twice with the same effect (a timestamp refresh), so it is retried like a read. */
export const IDEMPOTENT = '/* kiln:idempotent */';

/**
 * Marks a write that changes only jobs that have not completed (acquisition, heartbeats, log batches) and their logs:
 * the views of finished builds kept in memory (src/api/builds/buildViewCache.ts) stay exact through it.
 */
export const UNFINISHED_JOBS_ONLY = '/* kiln:unfinished-jobs-only */';

function isRetryable(q: unknown): boolean {
  const text = typeof q === 'string' ? q : typeof q === 'object' && q !== null ? (q as { text?: unknown }).text : undefined;
  if (typeof text !== 'string') return false;
  if (text.includes(IDEMPOTENT)) return true;
  return /^\s*(SELECT|WITH)\b/i.test(text) && !/\b(INSERT|UPDATE|DELETE|MERGE|pg_notify|nextval|pg_advisory)\b/i.test(text);
}

/**
 * Listeners told, in this process, as soon as writes through any of its pools have committed: the text of each
 * statement that may have written (one outside a transaction, or those of a transaction, at its COMMIT). In-memory
 * caches of rows drop what those statements may have changed, before the writer can answer anyone: NOTIFY tells other
 * processes the same, but it arrives on its own connection, later.
 */
type WriteListener = (statements: readonly string[]) => void;
const writeListeners = new Set<WriteListener>();

export function onWrite(listener: WriteListener): () => void {
  writeListeners.add(listener);
  return () => writeListeners.delete(listener);
}

export function announceWrites(statements: readonly string[]): void {
  for (const l of writeListeners) l(statements);
}

/** A statement's SQL text ('' when it cannot be told: listeners must then assume it wrote anything). */
export function statementText(q: unknown): string {
  const text = typeof q === 'string' ? q : typeof q === 'object' && q !== null ? (q as { text?: unknown }).text : undefined;
  return typeof text === 'string' ? text : '';
}

/** Statement texts already classified (named statements repeat the same few texts). */
const readOnlyTexts = new Map<string, boolean>();

/** A statement that cannot write: a SELECT (or WITH … SELECT) without a data-changing clause or function. */
export function isReadOnly(q: unknown): boolean {
  const text = typeof q === 'string' ? q : typeof q === 'object' && q !== null ? (q as { text?: unknown }).text : undefined;
  if (typeof text !== 'string') return false;
  let known = readOnlyTexts.get(text);
  if (known === undefined) {
    // A row lock (`FOR UPDATE`) changes nothing.
    const body = text.replace(/\bFOR\s+(NO\s+KEY\s+)?UPDATE\b/gi, '');
    known = /^\s*(SELECT|WITH)\b/i.test(body) && !/\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|pg_notify|nextval|setval)\b/i.test(body);
    if (readOnlyTexts.size < 2_000) readOnlyTexts.set(text, known);
  }
  return known;
}

const CONNECTION_LOST_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

/** The error says the connection (not the statement) failed: the server went away, or the socket did. */
export function isConnectionLoss(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | null;
  if (!err) return false;
  if (err.code && CONNECTION_LOST_CODES.has(err.code)) return true;
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|ECONNRESET|ECONNREFUSED/i.test(err.message ?? '');
}

/**
 * Runs `fn` in one transaction on one client. Inside `fn`, use only the given client: taking another connection from
 * the pool while holding this one is how pools starve.
 */
export async function inTx<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>, isolation?: 'serializable' | 'repeatable read'): Promise<T> {
  const begin = isolation ? `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}` : 'BEGIN';
  /** The transaction's statements that may write, announced once it has committed. */
  const writes: string[] = [];
  let client: pg.PoolClient;
  // A pooled connection that died while idle fails at BEGIN, before anything was done: take another (a few may be dead).
  for (let attempt = 0; ; attempt++) {
    client = countingClient(await pool.connect(), writes);
    try {
      await client.query(begin);
      break;
    } catch (e) {
      client.release(e as Error);
      if (!isDeadConnection(e) || attempt >= 5) throw e;
    }
  }
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    if (writes.length > 0) announceWrites(writes);
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    // A connection that died mid-transaction is destroyed, not handed to the next caller.
    client.release(isConnectionLoss(e) ? (e as Error) : undefined);
    throw e;
  }
}

/**
 * A transaction's client whose statements (BEGIN and COMMIT included) count for the unit of work, and whose statements
 * that may write are collected in `writes`.
 */
function countingClient(client: pg.PoolClient, writes: string[]): pg.PoolClient {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (...args: unknown[]) => {
          countStatement();
          if (!isReadOnly(args[0])) writes.push(statementText(args[0]));
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
