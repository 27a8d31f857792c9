-- An agent's auth token is chosen by the template (Terraform keeps coder_agent.token in state), so every build of a
-- workspace reports the same token again: a new agent row per build with the token of the one before. A unique
-- constraint made the second build of such a workspace fail. Token lookups take the agent of the newest build.
ALTER TABLE workspace_agents DROP CONSTRAINT workspace_agents_auth_token_key;
CREATE INDEX workspace_agents_auth_token ON workspace_agents (auth_token);
