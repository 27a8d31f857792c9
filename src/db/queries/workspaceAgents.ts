import type { Queryable } from '../pool.js';

import type { WorkspaceAgentRow, WorkspaceAppRow } from './workspaceResources.js';

/** What the agent API works on: an agent row with the build and workspace it belongs to. */
export interface AgentWithBuild extends WorkspaceAgentRow {
  build_id: string;
  build_number: number;
  workspace_id: string;
}

const AGENT_WITH_BUILD = `
  SELECT a.*, b.id AS build_id, b.build_number, b.workspace_id
  FROM workspace_agents a
  JOIN workspace_resources r ON r.id = a.resource_id
  JOIN workspace_builds b ON b.job_id = r.job_id`;

/**
 * The agent a token belongs to. Tokens are not unique (migration 000003: a template keeps its token from build to
 * build), so the newest build's agent is the one that answers.
 */
export async function getAgentByAuthToken(db: Queryable, token: string): Promise<AgentWithBuild | undefined> {
  const { rows } = await db.query<AgentWithBuild>(`${AGENT_WITH_BUILD} WHERE a.auth_token = $1 ORDER BY b.created_at DESC, b.build_number DESC LIMIT 1`, [token]);
  return rows[0];
}

export async function getAgentByID(db: Queryable, id: string): Promise<AgentWithBuild | undefined> {
  const { rows } = await db.query<AgentWithBuild>(`${AGENT_WITH_BUILD} WHERE a.id = $1`, [id]);
  return rows[0];
}

export async function getAppsByAgentID(db: Queryable, agentId: string): Promise<WorkspaceAppRow[]> {
  const { rows } = await db.query<WorkspaceAppRow>('SELECT * FROM workspace_apps WHERE agent_id = $1 ORDER BY ordinal, slug', [agentId]);
  return rows;
}

/** A coordinate connection opened: first connection is kept, the last one moves. */
export async function markAgentConnected(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query(
    'UPDATE workspace_agents SET first_connected_at = COALESCE(first_connected_at, $2), last_connected_at = $2, updated_at = $2 WHERE id = $1',
    [id, now],
  );
}

/** Refresh while connected: an agent that stops refreshing counts as disconnected (reference §9.2 rule 4). */
export async function touchAgentConnection(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('UPDATE workspace_agents SET last_connected_at = $2 WHERE id = $1', [id, now]);
}

export async function markAgentDisconnected(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('UPDATE workspace_agents SET disconnected_at = $2, updated_at = $2 WHERE id = $1', [id, now]);
}

export async function updateAgentLifecycle(db: Queryable, id: string, state: string, now: Date): Promise<void> {
  await db.query('UPDATE workspace_agents SET lifecycle_state = $2, updated_at = $3 WHERE id = $1', [id, state, now]);
}

export async function updateAgentVersion(db: Queryable, id: string, version: string, now: Date): Promise<void> {
  await db.query('UPDATE workspace_agents SET version = $2, updated_at = $3 WHERE id = $1', [id, version, now]);
}

/** Only rows whose health really changes are written; returns how many did. */
export async function updateAppHealths(db: Queryable, changes: { id: string; health: string }[]): Promise<number> {
  if (changes.length === 0) return 0;
  const { rowCount } = await db.query(
    `UPDATE workspace_apps a SET health = t.health
     FROM unnest($1::uuid[], $2::text[]) AS t(id, health)
     WHERE a.id = t.id AND a.health IS DISTINCT FROM t.health`,
    [changes.map((c) => c.id), changes.map((c) => c.health)],
  );
  return rowCount ?? 0;
}
