// A kiln server for the benchmark, in its own process so its RSS and CPU profile are its own. Started by procs.mjs
// with KILN_BENCH_CONFIG (JSON: postgresUrl, daemons, maxJobLogBytes, stampFlush); prints "READY <url>" and stops on
// SIGTERM. Imports the compiled server from dist/ (npm run bench builds first).
import { startServer } from '../../dist/server/server.js';
import { InProcessProvisionerdClient } from '../../dist/api/provisionerdserver/index.js';
import { createLogger } from '../../dist/lib/logger.js';

const cfg = JSON.parse(process.env.KILN_BENCH_CONFIG ?? '{}');

if (cfg.stampFlush) {
  // Bench-only instrumentation for the follower benchmark: a line's created_at becomes the moment the daemon flushes
  // its batch to the server, so "receipt − created_at" measures flush → client, not the batching wait before it.
  const original = InProcessProvisionerdClient.prototype.updateJob;
  InProcessProvisionerdClient.prototype.updateJob = function (req) {
    const now = Date.now();
    return original.call(this, { ...req, logs: req.logs?.map((l) => ({ ...l, created_at: now })) });
  };
}

const logger = createLogger('warn');
const server = await startServer(
  {
    address: '127.0.0.1:0',
    dataDir: cfg.dataDir,
    postgresUrl: cfg.postgresUrl,
    provisionerDaemons: cfg.daemons ?? 3,
    logLevel: 'warn',
    sessionDurationMs: 24 * 3600_000,
    maxFileBytes: 64 * 1024 * 1024,
    jobHangTimeoutMs: 5 * 60_000,
    jobPendingTimeoutMs: 30 * 60_000,
    overrides: cfg.maxJobLogBytes ? { maxJobLogBytes: cfg.maxJobLogBytes } : undefined,
  },
  logger,
);
console.log(`READY ${server.url}`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
});
