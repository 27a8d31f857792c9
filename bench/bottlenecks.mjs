/** The code the analyses below describe: the report prints it next to each, since this run did not measure them. */
export const BOTTLENECKS_AS_OF =
  'dc5c576 and after (2026-12-01): finished builds served from memory, log batches in one statement, echo backpressure, last_log_id without a trigger; measured with single-figure runs of the benchmark\'s own loads, node --cpu-prof and --trace-gc';

// What was found behind each target that a run may miss (keyed by figure key, or its prefix). Written by hand; the
// report puts the run's own CPU accounting (bench/lib/cpu.mjs) in front of it, which is measured.

const VIEW_STATEMENT =
  'A finished build read before costs no statement (src/api/builds/buildViewCache.ts); a miss runs the one-statement view, which PostgreSQL executes about 4× slower than the reference\'s primary-key SELECT (the view statement alone from a bare pg pool, 50 concurrent: ~2,600/s against ~11,000/s for the reference SELECT). If this figure is missed, the cache was not serving: look for writes during the load (any write to a table the view embeds empties it).';

export const BOTTLENECKS = {
  build: VIEW_STATEMENT,
  growth:
    'The list statements render 25 views in PostgreSQL (~3 ms each request); at 10,000 rows the generic plan walks the (workspace_id, build_number) or live-workspaces index and stops after the page, and the workspaces count is an index-only count. Before plan_cache_mode = force_generic_plan PostgreSQL re-planned these statements on every execution once a table grew, which was most of the growth. Next: serve the pages\' finished builds from the build view cache too.',
  throughput:
    'PostgreSQL round trips per build. A no-op build costs POST /workspaces/{id}/builds (13 statements without template_version_id, counted by the server in this run\'s POST note: the workspace, its latest build, the version with its template and import job, then BEGIN, workspace lock, latest build, the version\'s parameters, the job insert with its NOTIFY, build insert, COMMIT, the workspace NOTIFY and the render), acquisition (1) and completion (8), against 3 for the bare queue. The server\'s CPU profile during the 32-daemon runs had ~40% of its samples inside writev() to PostgreSQL sockets (the kernel handing the statement to a PostgreSQL backend that then runs on the same 2 cores) and ~16% idle; JavaScript was a few percent. Next: the workspace read with its version, the workspace lock with its latest build in one statement, the build insert carrying the workspace NOTIFY (13 → about 9), and completion\'s NOTIFYs inside its transaction; then the remaining cost is PostgreSQL\'s own per-statement and per-commit work on the shared cores.',
  'logs.ingest':
    'A batch of 2,000 lines is one statement after a job\'s first (src/jobs/update.ts); the daemon keeps one update in flight, so the server\'s JavaScript for a batch (capping, parameter arrays) and the insert do not overlap, and the statement does more than the bare INSERT (locking and updating the job row, returning the ids, the NOTIFY: measured alone, 22 ms against 21 ms for the bare insert of 2,000 lines). Next: send the next batch while the previous commits, ordered by the job row lock and log_seq.',
  follow:
    'Each line is its own batch here (the daemons flush every line), so each line is one commit with its WAL flush before it reaches the followers from memory (src/jobs/localLogFeed.ts); the p99 is a line that waited for the previous line\'s commit. The fan-out itself is the bare reference\'s (100 WebSocket writes from one event loop).',
  rss:
    'Live memory during the 200,000-line job is about 60 MB (the heap after each full GC, node --trace-gc); the peak is garbage the V8 old generation accumulates between full GCs while the lines pass through the daemon queue and the insert path, plus transient copies of the 8 MB template archive. Done: the echo provisioner waits for room in the daemon queue instead of queuing the whole script, its parsed document is freed once the phase is taken, archives are kept in memory instead of decoded from PostgreSQL for every build. Next: fewer objects per line between the provisioner and the insert (columnar batches).',
};
