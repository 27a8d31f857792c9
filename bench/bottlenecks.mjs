/** The code the analyses below describe: the report prints it next to each, since this run did not measure them. */
export const BOTTLENECKS_AS_OF =
  '99629b2 and after (2026-12-01): finished builds served from memory, log batches in one statement (a job\'s first too), completion\'s NOTIFYs in its transaction, the build insert carrying the workspace NOTIFY, times as float8, the echo provisioner parsing only its phase, glibc\'s mmap threshold fixed by bin/kiln; measured with single-figure runs of the benchmark\'s own loads, pg_stat_statements, node --cpu-prof and --trace-gc';

// What was found behind each target that a run may miss (keyed by figure key, or its prefix). Written by hand; the
// report puts the run's own CPU accounting (bench/lib/cpu.mjs) in front of it, which is measured.

const VIEW_STATEMENT =
  'A finished build read before costs no statement (src/api/builds/buildViewCache.ts); a miss runs the one-statement view, which PostgreSQL executes about 4× slower than the reference\'s primary-key SELECT (the view statement alone from a bare pg pool, 50 concurrent: ~2,600/s against ~11,000/s for the reference SELECT). If this figure is missed, the cache was not serving: look for writes during the load (any write to a table the view embeds empties it).';

export const BOTTLENECKS = {
  build: VIEW_STATEMENT,
  growth:
    'The list statements render 25 views in PostgreSQL (~3 ms each request); at 10,000 rows the generic plan walks the (workspace_id, build_number) or live-workspaces index and stops after the page, and the workspaces count is an index-only count. Before plan_cache_mode = force_generic_plan PostgreSQL re-planned these statements on every execution once a table grew, which was most of the growth. Next: serve the pages\' finished builds from the build view cache too.',
  throughput:
    'PostgreSQL\'s per-statement work on the shared cores. pg_stat_statements over one 400-build run at 32 daemons (about 100 builds/s): 26 statements per build before the acquired job\'s payload was read in one statement (22 in a run after it, 8,899 for 400 builds: POST 12 without template_version_id, the render included; acquisition 1 and its payload 1; the first log batch 1; completion 7), and 2.9 ms of PostgreSQL execution time per build (1.2 ms of it the POST\'s one-statement render), while PostgreSQL used about one core, some 10 ms per build: about two thirds of its CPU is the cost of a statement and a commit around the query (protocol, backend wake-ups, WAL flushes, NOTIFY), not the query. The bare queue\'s cycle is 3 statements. Next: the workspace with its version and the workspace lock with its latest build each in one (22 → about 20); beyond that, fewer statements per build needs work shared across builds (several jobs acquired or completed by one statement).',
  'logs.ingest':
    'A batch of 2,000 lines is one statement (src/jobs/update.ts) carrying its times as float8 milliseconds; the daemon keeps one update in flight, so the server\'s JavaScript for a batch (capping, the parameter arrays node-postgres formats as text) and the insert do not overlap, and the statement does more than the bare INSERT (locking and updating the job row, returning the ids, the NOTIFY). The measured window also holds the job\'s set-up (extracting the 8 MB template, parsing its phase\'s 200,000-line script: about 150 ms of the ~2.7 s). Next: send the next batch while the previous commits, ordered by the job row lock and log_seq.',
  follow:
    'Each line is its own batch here (the daemons flush every line), so each line is one commit with its WAL flush before it reaches the followers from memory (src/jobs/localLogFeed.ts); the p99 is a line that waited for the previous line\'s commit. The fan-out itself is the bare reference\'s (100 WebSocket writes from one event loop).',
  rss:
    'Live memory during the 200,000-line job is about 40 MB (the heap after a full GC, node --trace-gc); the rest of the peak is garbage the V8 old generation holds until its next full GC: the phase\'s parsed script (its lines outlive the young generation) and the large strings of each batch. Done: glibc\'s mmap threshold fixed (bin/kiln-env.sh; left dynamic, freed buffers fragmented the main heap: ~50 MB), the echo provisioner parses only its phase, waits for room in the daemon queue and frees its document. Next: fewer objects per line between the provisioner and the insert (columnar batches).',
};
