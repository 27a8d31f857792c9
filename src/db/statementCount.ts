import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Counts the SQL statements one unit of work (an HTTP request) sends, counted where they are sent: the pool wrapper
 * (src/db/pool.ts) increments the counter of the unit it runs in. The server reports it per route as a metric, so
 * "statements per request" is measured by kiln itself, not inferred from the database's commit count.
 */
export interface StatementCounter {
  statements: number;
}

const current = new AsyncLocalStorage<StatementCounter>();

/** Runs `fn` with a fresh counter; everything `fn` starts (callbacks, promises) counts into it. */
export function withStatementCounter<T>(counter: StatementCounter, fn: () => T): T {
  return current.run(counter, fn);
}

/** The counter of the unit of work in progress, if any. */
export function currentStatementCounter(): StatementCounter | undefined {
  return current.getStore();
}

export function countStatement(): void {
  const c = current.getStore();
  if (c) c.statements++;
}
