-- External provisioner daemons authenticate with a provisioner key (its secret is stored hashed) and inherit its tags.
CREATE TABLE provisioner_keys (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  hashed_secret bytea NOT NULL,
  tags jsonb NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX provisioner_keys_organization_name ON provisioner_keys (organization_id, lower(name));
-- A daemon presents only the secret; it is found by its hash.
CREATE UNIQUE INDEX provisioner_keys_hashed_secret ON provisioner_keys (hashed_secret);

-- Nullable additions only: a replica of the previous release keeps working against this schema (rolling upgrades).
-- A daemon row deleted with its key takes nothing else with it: jobs keep their worker_id as history.
ALTER TABLE provisioner_daemons
  ADD COLUMN key_id uuid REFERENCES provisioner_keys (id) ON DELETE CASCADE,
  ADD COLUMN api_version text NOT NULL DEFAULT '',
  ADD COLUMN builtin boolean NOT NULL DEFAULT true,
  -- A random id per daemon process: a reconnect of the same process keeps its identity, another process may not take it.
  ADD COLUMN instance_id text NOT NULL DEFAULT '',
  -- How the daemon authenticated: built-in, key, psk or user-auth (Coder reports the last three as pseudo-keys).
  ADD COLUMN auth text NOT NULL DEFAULT 'built-in';

-- The last daemon-assigned log sequence number stored for a job: a batch re-sent after a lost reply is not stored twice.
ALTER TABLE provisioner_jobs ADD COLUMN log_seq bigint NOT NULL DEFAULT 0;

-- Every running `kiln server` registers itself and refreshes updated_at; a row that stops being refreshed is a dead
-- replica and is forgotten.
CREATE TABLE replicas (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  started_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  stopped_at timestamptz,
  hostname text NOT NULL,
  region_id integer NOT NULL DEFAULT 0,
  relay_address text NOT NULL DEFAULT '',
  version text NOT NULL DEFAULT '',
  error text NOT NULL DEFAULT '',
  database_latency integer NOT NULL DEFAULT 0
);

-- A daemon's current and previous job (GET …/provisionerdaemons) without scanning the whole job history.
CREATE INDEX provisioner_jobs_worker ON provisioner_jobs (worker_id, started_at DESC) WHERE worker_id IS NOT NULL;
