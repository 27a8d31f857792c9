-- Startup logs: what an agent's startup script printed, sent by the agent (PATCH /workspaceagents/me/startup-logs).
-- Ids come from one global sequence, like build logs: they are the cursor of `before`/`after` and of live follow.
CREATE TABLE workspace_agent_startup_logs (
  id bigserial PRIMARY KEY,
  agent_id uuid NOT NULL REFERENCES workspace_agents (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  level text NOT NULL CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error')),
  output text NOT NULL
);
CREATE INDEX workspace_agent_startup_logs_agent ON workspace_agent_startup_logs (agent_id, id);

-- The per-agent cap (1 MiB) is checked against this running total instead of summing the table on every batch.
ALTER TABLE workspace_agents ADD COLUMN startup_logs_length integer NOT NULL DEFAULT 0;
ALTER TABLE workspace_agents ADD COLUMN startup_logs_overflowed boolean NOT NULL DEFAULT false;
