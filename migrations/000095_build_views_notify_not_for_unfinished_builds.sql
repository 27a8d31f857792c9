-- A build's success writes its own workspace_builds row (state, deadline) while the build is still unfinished, and no
-- replica keeps the view of an unfinished build (src/api/builds/buildViewCache.ts). Migration 000093's statement
-- trigger on workspace_builds still notified 'kiln_build_views' for it, and the workspaces trigger did too for the
-- success statement's update of a deleted workspace, even when that matched no row. A transaction that notifies takes
-- PostgreSQL's single notification-queue lock at commit and keeps it through its WAL flush, so every build's success
-- waited in line behind every other's, and every replica dropped its cached views for nothing.
--
-- The statement that stores a build's success (completeBuildJob, src/db/queries/jobEnd.ts) sets
-- kiln.writing_unfinished_build for its transaction; the workspace_builds trigger then stays quiet. Every other write to
-- workspace_builds -- kiln's routes, another replica, an operator's SQL -- notifies as before. The workspaces trigger
-- becomes a row trigger: it notifies when a workspace row changes (a successful delete build marks its workspace), not
-- for an update that matched nothing.
CREATE FUNCTION kiln_build_views_notify_builds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('kiln.writing_unfinished_build', true) IS DISTINCT FROM 'on' THEN
    PERFORM pg_notify('kiln_build_views', '');
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER workspace_builds_build_views_notify ON workspace_builds;
CREATE TRIGGER workspace_builds_build_views_notify
  AFTER UPDATE OR DELETE ON workspace_builds FOR EACH STATEMENT EXECUTE FUNCTION kiln_build_views_notify_builds();

DROP TRIGGER workspaces_build_views_notify ON workspaces;
CREATE TRIGGER workspaces_build_views_notify
  AFTER UPDATE OR DELETE ON workspaces FOR EACH ROW EXECUTE FUNCTION kiln_build_views_notify();
