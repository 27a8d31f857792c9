import pg from 'pg';

import { announceWrites, DEFAULT_STATEMENT_TIMEOUT_MS, isReadOnly, statementText, type Queryable } from './pool.js';
import { countStatement } from './statementCount.js';

/**
 * ONE connection in pipeline mode: a statement is written to PostgreSQL when it is issued, without waiting for the
 * answer to the one before; PostgreSQL runs them in the order written, each in its own implicit transaction, and
 * answers in that order. A job's log batches use it (src/jobs/update.ts): the next batch is already waiting in
 * PostgreSQL when the previous one commits, instead of leaving only once its answer has come back to this process.
 *
 * Opened on first use and again after it broke (a statement issued meanwhile fails like one on a dead pooled
 * connection, and its caller falls back or retries). Statements are counted and announced as the pool's are.
 */
export class PipelinedConnection {
  #client: pg.Client | undefined;
  #opening: Promise<pg.Client> | undefined;
  #closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly applicationName = 'kiln-logs',
    private readonly statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS,
  ) {}

  /** Statements issued in turn are written, run and answered in that order. */
  readonly query = (async (config: pg.QueryConfig) => {
    // Callers that issue statements in turn reach this line in that order: awaiting the same open (or none) keeps it.
    const client = this.#client ?? (await this.#open());
    countStatement();
    const result = await client.query(config);
    if (!isReadOnly(config)) announceWrites([statementText(config)]);
    return result;
  }) as unknown as Queryable['query'];

  #open(): Promise<pg.Client> {
    if (this.#closed) return Promise.reject(new Error('Client was closed and is not queryable'));
    this.#opening ??= (async () => {
      const client = new pg.Client({
        connectionString: this.connectionString,
        pipeline: true,
        application_name: this.applicationName,
        ...(this.statementTimeoutMs > 0 ? { statement_timeout: this.statementTimeoutMs } : {}),
      } as pg.ClientConfig);
      // A broken connection is dropped; the next statement opens another. Its statements fail, and their callers see it.
      const drop = () => {
        if (this.#client === client) this.#client = undefined;
      };
      client.on('error', drop);
      client.on('end', drop);
      try {
        await client.connect();
      } catch (e) {
        client.removeAllListeners();
        client.on('error', () => {});
        throw e;
      } finally {
        this.#opening = undefined;
      }
      if (this.#closed) {
        await client.end().catch(() => {});
        throw new Error('Client was closed and is not queryable');
      }
      this.#client = client;
      return client;
    })();
    return this.#opening;
  }

  /** Closes the connection once the statements written to it are answered. */
  async end(): Promise<void> {
    this.#closed = true;
    const client = this.#client ?? (await this.#opening?.catch(() => undefined));
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}
