import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { ServerOptions } from '../../src/api/context.js';
import { startServer, type RunningServer, type ServerConfig } from '../../src/server/server.js';
import type { Clock } from '../../src/lib/clock.js';
import { createLogger, type LogLevel, type Logger } from '../../src/lib/logger.js';
import { KilnClient } from '../../src/sdk/client.js';
import type { SiteRole } from '../../src/sdk/types/users.js';

import { createTestDatabase, type TestDatabase } from './db.js';

export interface TestServerOptions {
  provisionerDaemons?: number;
  clock?: Clock;
  /** Where the server logs; by default nothing is logged unless KILN_TEST_LOG names a level. */
  logger?: Logger;
  overrides?: Partial<ServerOptions>;
  config?: Partial<ServerConfig>;
  /**
   * Run on this database instead of a fresh clone: a second replica of another test server (it shares the first one's
   * `db`). The database is then left to its owner: close() does not drop it.
   */
  database?: TestDatabase;
}

export interface TestUser {
  client: KilnClient;
  userId: string;
  username: string;
  email: string;
  password: string;
}

export interface TestServer {
  url: string;
  server: RunningServer;
  db: TestDatabase;
  dataDir: string;
  /** A client without a token. */
  client: KilnClient;
  /** Creates the first user (owner) and returns a logged-in client plus the default organization id. */
  createFirstUser(): Promise<TestUser & { organizationId: string }>;
  /** Creates a user through the owner's client and logs in as them. */
  createUser(owner: KilnClient, roles?: SiteRole[]): Promise<TestUser>;
  close(): Promise<void>;
  /** Stops the server (not the database) and starts it again on the same address, database and data dir. */
  restart(): Promise<void>;
}

let seq = 0;

/**
 * The server in-process on an ephemeral port, on its own cloned database, driven through the SDK (Coder's
 * coderdtest, in kiln's shape). Built-in daemons default to 1 so builds run; pass 0 to keep jobs pending.
 */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const ownsDb = !opts.database;
  const db = opts.database ?? (await createTestDatabase());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-srv-'));
  const logger = opts.logger ?? createLogger((process.env.KILN_TEST_LOG as LogLevel | undefined) ?? 'silent');
  let server: RunningServer;
  let config: ServerConfig;
  try {
    config = {
      address: '127.0.0.1:0',
      dataDir,
      postgresUrl: db.url,
      provisionerDaemons: opts.provisionerDaemons ?? 1,
      logLevel: 'error',
      sessionDurationMs: 24 * 3600_000,
      maxFileBytes: 10 * 1024 * 1024,
      jobHangTimeoutMs: 5 * 60_000,
      jobPendingTimeoutMs: 30 * 60_000,
      clock: opts.clock,
      // A low scrypt cost keeps user creation fast in tests; production uses the default.
      // Every response is checked against its schema: a field a converter adds but the schema lacks fails the test.
      overrides: { passwordHashCost: 1024, checkResponses: true, ...opts.overrides },
      ...opts.config,
    };
    server = await startServer(config, logger);
  } catch (e) {
    if (ownsDb) await db.drop();
    throw e;
  }
  const url = server.url;
  const client = new KilnClient(url);
  const ts: TestServer = {
    url,
    server,
    db,
    dataDir,
    client,
    async createFirstUser() {
      const n = ++seq;
      const email = `owner${n}@example.com`;
      const password = 'owner-password';
      const username = `owner${n}`;
      const res = await client.createFirstUser({ email, username, password });
      const c = new KilnClient(url);
      await c.login(email, password);
      return { client: c, userId: res.user_id, organizationId: res.organization_id, username, email, password };
    },
    async createUser(owner, roles = []) {
      const n = ++seq;
      const username = `user${n}-${Math.random().toString(36).slice(2, 7)}`;
      const email = `${username}@example.com`;
      const password = 'member-password';
      const user = await owner.createUser({ email, username, password, roles: roles.filter((r) => r !== 'member') as Exclude<SiteRole, 'member'>[] });
      const c = new KilnClient(url);
      await c.login(email, password);
      return { client: c, userId: user.id, username, email, password };
    },
    async close() {
      await server.close();
      if (ownsDb) await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await server.close();
      // Same address: agents running in workspaces keep the URL they were given.
      server = await startServer({ ...config, address: new URL(url).host }, logger);
      ts.server = server;
    },
  };
  return ts;
}
