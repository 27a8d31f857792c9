import type { Queryable } from '../pool.js';

export interface StartupLogRow {
  id: number;
  agent_id: string;
  created_at: Date;
  level: string;
  output: string;
}

export interface NewStartupLog {
  createdAt: Date;
  level: string;
  output: string;
}

/** Lines of one agent in id order, optionally bounded by ids (the cursor of list and follow). */
export async function getStartupLogs(db: Queryable, agentId: string, q: { after?: number; before?: number; limit?: number } = {}): Promise<StartupLogRow[]> {
  const { rows } = await db.query<StartupLogRow>(
    `SELECT id::int AS id, agent_id, created_at, level, output FROM workspace_agent_startup_logs
     WHERE agent_id = $1 AND ($2::bigint IS NULL OR id > $2) AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id LIMIT $4`,
    [agentId, q.after ?? null, q.before ?? null, q.limit ?? null],
  );
  return rows;
}

/** One multi-row insert, ids handed out in batch order (WITH ORDINALITY), so the follow cursor sees them in order. */
export async function insertStartupLogs(db: Queryable, agentId: string, logs: NewStartupLog[]): Promise<void> {
  if (logs.length === 0) return;
  await db.query(
    `INSERT INTO workspace_agent_startup_logs (agent_id, created_at, level, output)
     SELECT $1, t.created_at, t.level, t.output
     FROM unnest($2::timestamptz[], $3::text[], $4::text[]) WITH ORDINALITY AS t(created_at, level, output, ord)
     ORDER BY t.ord`,
    [agentId, logs.map((l) => l.createdAt), logs.map((l) => l.level), logs.map((l) => l.output)],
  );
}

/** Locks the agent row so concurrent batches of one agent add up against the cap one after the other. */
export async function getStartupLogCapForUpdate(db: Queryable, agentId: string): Promise<{ startup_logs_length: number; startup_logs_overflowed: boolean } | undefined> {
  const { rows } = await db.query<{ startup_logs_length: number; startup_logs_overflowed: boolean }>(
    'SELECT startup_logs_length, startup_logs_overflowed FROM workspace_agents WHERE id = $1 FOR UPDATE',
    [agentId],
  );
  return rows[0];
}

export async function setStartupLogCap(db: Queryable, agentId: string, length: number, overflowed: boolean): Promise<void> {
  await db.query('UPDATE workspace_agents SET startup_logs_length = $2, startup_logs_overflowed = $3 WHERE id = $1', [agentId, length, overflowed]);
}
