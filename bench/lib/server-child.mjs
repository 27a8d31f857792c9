// A kiln server for the benchmark, in its own process so its RSS and CPU profile are its own. Started by procs.mjs
// with KILN_BENCH_CONFIG (JSON: postgresUrl, daemons, maxJobLogBytes, maxQueuedLines, flushEachLine, followers); prints "READY <url>" and stops on
// SIGTERM. Imports the compiled server from dist/ (npm run bench builds first).
import { startServer } from '../../dist/server/server.js';
import { createLogger } from '../../dist/lib/logger.js';
import { defaultStreamLimits } from '../../dist/api/http/streamCaps.js';

const cfg = JSON.parse(process.env.KILN_BENCH_CONFIG ?? '{}');

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
    overrides: {
      ...(cfg.maxJobLogBytes ? { maxJobLogBytes: cfg.maxJobLogBytes } : {}),
      // The follower figure's user holds more log follows than the per-user default allows (docs/security.md).
      ...(cfg.followers ? { streamLimits: { ...defaultStreamLimits, follow: Math.max(defaultStreamLimits.follow, cfg.followers) } } : {}),
    },
    // The follower benchmark: the built-in daemons send every line as soon as the provisioner emits it.
    daemonOptions: {
      ...(cfg.flushEachLine ? { logFlushMs: 1, logFlushLines: 1 } : {}),
      // The echo provisioner emits a job's lines at once: the log figure's daemons hold them all while they are sent.
      ...(cfg.maxQueuedLines ? { logMaxQueuedLines: cfg.maxQueuedLines } : {}),
    },
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
