-- Tokens that open one workspace app on its own origin (docs/security.md, "App proxy"). Minted by
-- GET /api/v2/applications/auth-redirect for the workspace owner or a site owner; scoped to a workspace, an agent
-- name and an app slug (names, not ids, so they outlive a restart of the workspace); short-lived.
CREATE TABLE workspace_app_tokens (
  id text PRIMARY KEY,
  hashed_secret bytea NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  agent_name text NOT NULL,
  app_slug text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX workspace_app_tokens_expires ON workspace_app_tokens (expires_at);
