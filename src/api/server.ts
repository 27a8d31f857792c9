import type { FastifyInstance } from 'fastify';

import type { Clock } from '../lib/clock.js';
import { systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embeddedPostgres.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { PgPubsub } from '../db/pubsub.js';
import { PipelinedConnection } from '../db/pipeline.js';

import { listenAgentSocket, type AgentSocket } from './agentSocket.js';
import { AgentTunnels } from './agents/tunnels.js';
import { buildApp } from './app.js';
import { defaultServerOptions, type ServerContext, type ServerOptions } from './context.js';

export interface ApiServerConfig {
  /** host:port to listen on; port 0 picks a free one. */
  address: string;
  /** External PostgreSQL; without it an embedded cluster runs in `<dataDir>/postgres`. */
  postgresUrl?: string;
  dataDir: string;
  logger: Logger;
  clock?: Clock;
  options?: Partial<ServerOptions>;
  /** Embedded cluster tuned for throwaway data (tests, benchmarks). */
  ephemeralPostgres?: boolean;
  poolSize?: number;
  /** The embedded PostgreSQL died and could not be restarted (see embeddedPostgres.ts). */
  onPostgresFatal?: (err: Error) => void;
  /** Also serve the agent API on a unix socket in this directory (sandboxed workspaces reach the server only so). */
  agentSocket?: { dir: string; gid?: number };
  /** Connections reserved for the built-in daemons and the reaper (default 5). */
  enginePoolSize?: number;
}

export interface ApiServer {
  app: FastifyInstance;
  ctx: ServerContext;
  /**
   * The same context on a pool of its own, for the built-in daemons and the reaper: however many requests, followers
   * or slow statements hold the API's pool, builds still report their logs and finish.
   */
  engineCtx: ServerContext;
  url: string;
  postgres?: EmbeddedPostgres;
  agentSocket?: AgentSocket;
  migrated: number[];
  /** Stop accepting, drain in-flight requests, then release the database (and stop the embedded cluster). */
  close(): Promise<void>;
}

export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  if (i < 0) throw new Error(`invalid address "${address}": expected host:port`);
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port in address "${address}"`);
  return { host, port };
}

/**
 * Pipelined connections for jobs' log batches (each job on one of them): a streaming job's next batch waits in
 * PostgreSQL, not here, while the previous one commits. Two, so two jobs streaming at once do not queue behind each other.
 */
const LOG_PIPELINES = 2;

/** Starts the database, migrates it, and serves the API. Daemons are wired by the caller (see the server command). */
export async function startApiServer(cfg: ApiServerConfig): Promise<ApiServer> {
  const { logger } = cfg;
  let postgres: EmbeddedPostgres | undefined;
  let url = cfg.postgresUrl;
  if (!url) {
    postgres = await startEmbeddedPostgres({ dataDir: cfg.dataDir, logger, ephemeral: cfg.ephemeralPostgres, onFatal: cfg.onPostgresFatal });
    url = postgres.url;
  }
  let pool: Pool | undefined;
  let enginePool: Pool | undefined;
  let pubsub: PgPubsub | undefined;
  let logPipelines: PipelinedConnection[] = [];
  try {
    pool = createPool(url, { max: cfg.poolSize ?? 20, applicationName: 'kiln', genericPlans: true });
    enginePool = createPool(url, { max: cfg.enginePoolSize ?? 5, applicationName: 'kiln-engine' });
    const migrated = await migrate(pool);
    if (migrated.length) logger.info({ migrations: migrated }, 'database migrated');
    pubsub = new PgPubsub(url, pool, logger);
    const { host, port } = splitAddress(cfg.address);
    const listenPort = port;
    const options: ServerOptions = { ...defaultServerOptions, ...cfg.options };
    logPipelines = Array.from({ length: LOG_PIPELINES }, () => new PipelinedConnection(url as string));
    const ctx: ServerContext = { pool, pubsub, logger, clock: cfg.clock ?? systemClock, options, tunnels: new AgentTunnels(), logPipelines };
    const engineCtx: ServerContext = { ...ctx, pool: enginePool };
    const app = await buildApp(ctx);
    await app.listen({ host, port: listenPort });
    const addr = app.server.address();
    const boundPort = typeof addr === 'object' && addr ? addr.port : port;
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    if (!cfg.options?.accessUrl) options.accessUrl = base;
    let agentSocket: AgentSocket | undefined;
    try {
      if (cfg.agentSocket) agentSocket = await listenAgentSocket(app, cfg.agentSocket);
    } catch (e) {
      await app.close();
      throw e;
    }
    // Browsers resolve every *.localhost name to loopback, so apps get their own origins with no DNS set up.
    if (!cfg.options?.wildcardAccessUrl) options.wildcardAccessUrl = `*.apps.localhost:${boundPort}`;
    const p = pool;
    const ep = enginePool;
    const ps = pubsub;
    const pipes = logPipelines;
    let closing: Promise<void> | undefined;
    return {
      app,
      ctx,
      engineCtx,
      url: base,
      postgres,
      agentSocket,
      migrated,
      close: () =>
        (closing ??= (async () => {
          await agentSocket?.close();
          await app.close();
          await ps.close();
          await Promise.all(pipes.map((c) => c.end()));
          await p.end();
          await ep.end();
          await postgres?.stop();
        })()),
    };
  } catch (e) {
    await pubsub?.close().catch(() => {});
    await Promise.all(logPipelines.map((c) => c.end()));
    await pool?.end().catch(() => {});
    await enginePool?.end().catch(() => {});
    await postgres?.stop().catch(() => {});
    throw e;
  }
}
