-- Every replica keeps API keys and their users in memory (src/api/middleware/apiKeyCache.ts). Whatever changes what
-- authentication reads -- kiln's routes, another replica, an operator's SQL -- tells every replica through NOTIFY,
-- carrying ids only: 'k:<key id>' for a key, 'u:<user id>' for a user.
CREATE FUNCTION kiln_auth_notify_api_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kiln_auth', 'k:' || OLD.id);
  RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_auth_notify
  AFTER DELETE OR UPDATE OF id, hashed_secret, user_id, expires_at ON api_keys
  FOR EACH ROW EXECUTE FUNCTION kiln_auth_notify_api_key();

CREATE FUNCTION kiln_auth_notify_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kiln_auth', 'u:' || OLD.id);
  RETURN NULL;
END
$$;

CREATE TRIGGER users_auth_notify_update
  AFTER UPDATE OF id, username, status, deleted, rbac_roles ON users
  FOR EACH ROW
  WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.username IS DISTINCT FROM NEW.username OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.deleted IS DISTINCT FROM NEW.deleted OR OLD.rbac_roles IS DISTINCT FROM NEW.rbac_roles)
  EXECUTE FUNCTION kiln_auth_notify_user();

CREATE TRIGGER users_auth_notify_delete
  AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION kiln_auth_notify_user();
