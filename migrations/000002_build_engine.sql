-- The build engine: provisioner jobs and their logs, daemons, templates, workspaces, builds and what builds produce.

CREATE TABLE provisioner_daemons (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  provisioners text[] NOT NULL,
  tags jsonb NOT NULL DEFAULT '{"scope":"organization"}',
  organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
  version text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);

CREATE TABLE provisioner_jobs (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  -- The heartbeat: a running job's daemon touches it on every update.
  updated_at timestamptz NOT NULL,
  started_at timestamptz,
  canceled_at timestamptz,
  completed_at timestamptz,
  error text,
  organization_id uuid NOT NULL REFERENCES organizations (id),
  initiator_id uuid NOT NULL REFERENCES users (id),
  provisioner text NOT NULL,
  storage_method text NOT NULL DEFAULT 'file',
  type text NOT NULL CHECK (type IN ('template_version_import', 'workspace_build', 'template_version_dry_run')),
  input jsonb NOT NULL DEFAULT '{}',
  worker_id uuid,
  file_id uuid NOT NULL REFERENCES files (id),
  tags jsonb NOT NULL DEFAULT '{"scope":"organization"}',
  logs_length integer NOT NULL DEFAULT 0,
  logs_overflowed boolean NOT NULL DEFAULT false
);
-- Acquisition scans only jobs nobody has taken, oldest first; the partial index keeps that scan tiny however long the
-- history grows.
CREATE INDEX provisioner_jobs_pending ON provisioner_jobs (created_at) WHERE started_at IS NULL AND completed_at IS NULL AND canceled_at IS NULL;
-- The reaper looks for running jobs whose heartbeat stopped.
CREATE INDEX provisioner_jobs_running ON provisioner_jobs (updated_at) WHERE started_at IS NOT NULL AND completed_at IS NULL;

CREATE TABLE provisioner_job_logs (
  -- One global sequence: ids are the cursor of `after`/`before` and of live follow.
  id bigserial PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  source text NOT NULL CHECK (source IN ('provisioner_daemon', 'provisioner')),
  level text NOT NULL CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error')),
  stage text NOT NULL,
  output text NOT NULL
);
CREATE INDEX provisioner_job_logs_job ON provisioner_job_logs (job_id, id);

CREATE TABLE templates (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  organization_id uuid NOT NULL REFERENCES organizations (id),
  deleted boolean NOT NULL DEFAULT false,
  name text NOT NULL,
  display_name text NOT NULL DEFAULT '',
  description text NOT NULL DEFAULT '',
  icon text NOT NULL DEFAULT '',
  provisioner text NOT NULL,
  active_version_id uuid NOT NULL,
  default_ttl_ms bigint NOT NULL DEFAULT 0,
  allow_user_cancel_workspace_jobs boolean NOT NULL DEFAULT false,
  created_by uuid NOT NULL REFERENCES users (id)
);
CREATE UNIQUE INDEX templates_org_name ON templates (organization_id, lower(name)) WHERE NOT deleted;

CREATE TABLE template_versions (
  id uuid PRIMARY KEY,
  template_id uuid REFERENCES templates (id),
  organization_id uuid NOT NULL REFERENCES organizations (id),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  name text NOT NULL,
  readme text NOT NULL DEFAULT '',
  job_id uuid NOT NULL UNIQUE REFERENCES provisioner_jobs (id),
  created_by uuid NOT NULL REFERENCES users (id)
);
CREATE INDEX template_versions_template ON template_versions (template_id, created_at);
CREATE UNIQUE INDEX template_versions_template_name ON template_versions (template_id, name) WHERE template_id IS NOT NULL;

CREATE TABLE workspaces (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  owner_id uuid NOT NULL REFERENCES users (id),
  organization_id uuid NOT NULL REFERENCES organizations (id),
  template_id uuid NOT NULL REFERENCES templates (id),
  -- Set when a delete build succeeds; the row stays so builds and logs remain readable.
  deleted boolean NOT NULL DEFAULT false,
  name text NOT NULL,
  autostart_schedule text,
  ttl_ms bigint,
  last_used_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX workspaces_owner_name ON workspaces (owner_id, lower(name)) WHERE NOT deleted;
CREATE INDEX workspaces_template ON workspaces (template_id) WHERE NOT deleted;

CREATE TABLE workspace_builds (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  workspace_id uuid NOT NULL REFERENCES workspaces (id),
  template_version_id uuid NOT NULL REFERENCES template_versions (id),
  build_number integer NOT NULL,
  transition text NOT NULL CHECK (transition IN ('start', 'stop', 'delete')),
  initiator_id uuid NOT NULL REFERENCES users (id),
  provisioner_state bytea,
  job_id uuid NOT NULL UNIQUE REFERENCES provisioner_jobs (id),
  deadline timestamptz,
  reason text NOT NULL DEFAULT 'initiator',
  daily_cost integer NOT NULL DEFAULT 0,
  -- Two concurrent creates compute the same number; this constraint lets exactly one win (the other gets 409).
  CONSTRAINT workspace_builds_workspace_number UNIQUE (workspace_id, build_number)
);

CREATE TABLE workspace_resources (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  job_id uuid NOT NULL REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
  transition text NOT NULL,
  type text NOT NULL,
  name text NOT NULL,
  hide boolean NOT NULL DEFAULT false,
  icon text NOT NULL DEFAULT '',
  instance_type text,
  daily_cost integer NOT NULL DEFAULT 0,
  -- Provisioner order, kept because responses for a build list resources as the provisioner reported them.
  ordinal integer NOT NULL DEFAULT 0
);
CREATE INDEX workspace_resources_job ON workspace_resources (job_id);

CREATE TABLE workspace_resource_metadata (
  id bigserial PRIMARY KEY,
  workspace_resource_id uuid NOT NULL REFERENCES workspace_resources (id) ON DELETE CASCADE,
  key text NOT NULL,
  value text,
  sensitive boolean NOT NULL DEFAULT false,
  UNIQUE (workspace_resource_id, key)
);

CREATE TABLE workspace_agents (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  name text NOT NULL,
  resource_id uuid NOT NULL REFERENCES workspace_resources (id) ON DELETE CASCADE,
  auth_token uuid NOT NULL UNIQUE,
  auth_instance_id text,
  architecture text NOT NULL DEFAULT '',
  operating_system text NOT NULL DEFAULT '',
  environment_variables jsonb NOT NULL DEFAULT '{}',
  startup_script text,
  startup_script_timeout_seconds integer NOT NULL DEFAULT 0,
  shutdown_script text,
  directory text NOT NULL DEFAULT '',
  version text NOT NULL DEFAULT '',
  connection_timeout_seconds integer NOT NULL DEFAULT 0,
  troubleshooting_url text NOT NULL DEFAULT '',
  first_connected_at timestamptz,
  last_connected_at timestamptz,
  disconnected_at timestamptz,
  lifecycle_state text NOT NULL DEFAULT 'created',
  ordinal integer NOT NULL DEFAULT 0,
  UNIQUE (resource_id, name)
);
CREATE INDEX workspace_agents_resource ON workspace_agents (resource_id);

CREATE TABLE workspace_apps (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  agent_id uuid NOT NULL REFERENCES workspace_agents (id) ON DELETE CASCADE,
  slug text NOT NULL,
  display_name text NOT NULL DEFAULT '',
  icon text NOT NULL DEFAULT '',
  command text,
  url text,
  healthcheck_url text NOT NULL DEFAULT '',
  healthcheck_interval integer NOT NULL DEFAULT 0,
  healthcheck_threshold integer NOT NULL DEFAULT 0,
  health text NOT NULL DEFAULT 'disabled' CHECK (health IN ('disabled', 'initializing', 'healthy', 'unhealthy')),
  subdomain boolean NOT NULL DEFAULT false,
  sharing_level text NOT NULL DEFAULT 'owner' CHECK (sharing_level IN ('owner', 'authenticated', 'public')),
  external boolean NOT NULL DEFAULT false,
  ordinal integer NOT NULL DEFAULT 0,
  UNIQUE (agent_id, slug)
);
CREATE INDEX workspace_apps_agent ON workspace_apps (agent_id);

-- Legacy (pre-rich) parameters, written at workspace scope by builds and resolved when a daemon acquires the job.
CREATE TABLE parameter_values (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  scope text NOT NULL CHECK (scope IN ('template', 'import_job', 'workspace')),
  scope_id uuid NOT NULL,
  name text NOT NULL,
  source_scheme text NOT NULL,
  source_value text NOT NULL,
  destination_scheme text NOT NULL,
  UNIQUE (scope, scope_id, name)
);
