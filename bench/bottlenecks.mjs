// What profiling found behind each missed target (keyed by figure key, or its section prefix). Written by hand from
// `node bench/run.mjs --profile` CPU profiles and query counts; see RESULTS.md.
export const BOTTLENECKS = {};
