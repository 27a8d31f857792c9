-- Every replica keeps the views of finished builds in memory (src/api/builds/buildViewCache.ts). Whatever changes a
-- row such a view embeds -- kiln's routes, another replica, an operator's SQL -- tells every replica through NOTIFY on
-- 'kiln_build_views'; the payload is empty (replicas drop every view they hold), and PostgreSQL sends one notification
-- per transaction however many rows it changed.
--
-- Inserts are left out on purpose: a new build, job, resource, agent or app belongs to a build that is not finished
-- yet, and unfinished builds are never cached. A job is announced only once it has completed, so the updates a running
-- build makes (log counts, heartbeats) cost nothing here.
CREATE FUNCTION kiln_build_views_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kiln_build_views', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER provisioner_jobs_build_views_notify
  AFTER UPDATE OR DELETE ON provisioner_jobs
  FOR EACH ROW WHEN (OLD.completed_at IS NOT NULL)
  EXECUTE FUNCTION kiln_build_views_notify();

CREATE TRIGGER workspace_builds_build_views_notify
  AFTER UPDATE OR DELETE ON workspace_builds FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify();
CREATE TRIGGER workspace_resources_build_views_notify
  AFTER UPDATE OR DELETE ON workspace_resources FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify();
CREATE TRIGGER workspace_resource_metadata_build_views_notify
  AFTER UPDATE OR DELETE ON workspace_resource_metadata FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify();
CREATE TRIGGER workspace_agents_build_views_notify
  AFTER UPDATE OR DELETE ON workspace_agents FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify();
CREATE TRIGGER workspace_apps_build_views_notify
  AFTER UPDATE OR DELETE ON workspace_apps FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify();
CREATE TRIGGER workspaces_build_views_notify
  AFTER UPDATE OR DELETE ON workspaces FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify();
-- A user's last_seen_at moves with their activity and no view shows it.
CREATE TRIGGER users_build_views_notify_update
  AFTER UPDATE ON users FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'last_seen_at' - 'updated_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_seen_at' - 'updated_at'))
  EXECUTE FUNCTION kiln_build_views_notify();
CREATE TRIGGER users_build_views_notify_delete
  AFTER DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify();
CREATE TRIGGER templates_build_views_notify
  AFTER UPDATE OR DELETE ON templates FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify();
CREATE TRIGGER template_versions_build_views_notify
  AFTER UPDATE OR DELETE ON template_versions FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify();
