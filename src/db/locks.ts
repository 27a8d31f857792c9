import type { Pool } from './pool.js';

/**
 * Runs `fn` only if no other session (in this process or another replica) holds the advisory lock `key`; returns
 * false without running it otherwise. The lock is session-level and held on one pooled connection for the duration.
 * Periodic work that must not run twice at once across replicas (the job reaper, replica clean-up) goes through here.
 */
export async function withTryAdvisoryLock(pool: Pool, key: number, fn: () => Promise<void>): Promise<boolean> {
  const client = await pool.connect();
  let locked = false;
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key]);
    locked = rows[0]?.ok === true;
    if (!locked) return false;
    await fn();
    return true;
  } finally {
    if (locked) await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => {});
    client.release();
  }
}

/** Advisory lock keys; any constants work as long as every kiln process uses the same ones. */
export const LOCK_KEYS = {
  jobReaper: 7_451_288_032,
  replicaCleanup: 7_451_288_033,
} as const;
