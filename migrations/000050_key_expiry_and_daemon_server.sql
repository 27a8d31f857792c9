-- Expired API keys are purged periodically (src/api/auth/keyPurge.ts); the purge finds them by expiry.
CREATE INDEX api_keys_expires_at_idx ON api_keys (expires_at);

-- The kiln server (its persisted id, `<data dir>/server-id`) whose built-in daemon this is. A server restarting after
-- a crash fails the jobs its previous daemons left running at once, and never touches another replica's.
ALTER TABLE provisioner_daemons ADD COLUMN server_id uuid;
CREATE INDEX provisioner_daemons_server_id_idx ON provisioner_daemons (server_id);
