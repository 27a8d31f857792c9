import type { Queryable } from '../pool.js';

/** An app of the latest build of a workspace, named the way an app URL names it. */
export interface AppTargetRow {
  workspace_id: string;
  owner_id: string;
  agent_id: string;
  agent_name: string;
  app_slug: string;
  url: string | null;
  external: boolean;
}

/**
 * The app `<app>--<agent>--<workspace>--<owner>` names, in the workspace's latest build (names compare
 * case-insensitively, as host names do). Deleted workspaces and users name nothing.
 */
export async function getAppTarget(db: Queryable, p: { owner: string; workspace: string; agent: string; app: string }): Promise<AppTargetRow | undefined> {
  const { rows } = await db.query<AppTargetRow>(
    `SELECT w.id AS workspace_id, w.owner_id, a.id AS agent_id, a.name AS agent_name, app.slug AS app_slug, app.url, app.external
     FROM users u
     JOIN workspaces w ON w.owner_id = u.id AND NOT w.deleted AND lower(w.name) = lower($2)
     JOIN LATERAL (SELECT job_id FROM workspace_builds WHERE workspace_id = w.id ORDER BY build_number DESC LIMIT 1) b ON true
     JOIN workspace_resources r ON r.job_id = b.job_id
     JOIN workspace_agents a ON a.resource_id = r.id AND lower(a.name) = lower($3)
     JOIN workspace_apps app ON app.agent_id = a.id AND lower(app.slug) = lower($4)
     WHERE lower(u.username) = lower($1) AND NOT u.deleted
     LIMIT 1`,
    [p.owner, p.workspace, p.agent, p.app],
  );
  return rows[0];
}

export interface AppTokenRow {
  id: string;
  hashed_secret: Buffer;
  user_id: string;
  workspace_id: string;
  agent_name: string;
  app_slug: string;
  expires_at: Date;
}

export async function insertAppToken(db: Queryable, t: AppTokenRow, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO workspace_app_tokens (id, hashed_secret, user_id, workspace_id, agent_name, app_slug, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [t.id, t.hashed_secret, t.user_id, t.workspace_id, t.agent_name, t.app_slug, now, t.expires_at],
  );
}

/** A token with its user's standing: a suspended or deleted user's tokens open nothing. */
export async function getAppToken(db: Queryable, id: string): Promise<(AppTokenRow & { username: string; user_status: string; user_deleted: boolean; rbac_roles: string[] }) | undefined> {
  const { rows } = await db.query(
    `SELECT t.*, u.username, u.status AS user_status, u.deleted AS user_deleted, u.rbac_roles
     FROM workspace_app_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`,
    [id],
  );
  return rows[0] as never;
}

/** Expired tokens are useless; they are dropped whenever a new one is minted. */
export async function deleteExpiredAppTokens(db: Queryable, now: Date): Promise<void> {
  await db.query('DELETE FROM workspace_app_tokens WHERE expires_at <= $1', [now]);
}
