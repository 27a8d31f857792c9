-- The id of a job's newest log line. A server that inserts a batch of lines hands them to its own followers from
-- memory (src/api/http/streamRows.ts): a follower may take a batch only if it has sent everything up to the line before
-- it, which is this column's value read under the job's row lock before the insert. Every insert of log lines happens
-- under that lock (daemon updates, the reaper), so lines of one job commit in id order and nothing can hide in between.
ALTER TABLE provisioner_jobs ADD COLUMN last_log_id bigint NOT NULL DEFAULT 0;

UPDATE provisioner_jobs j SET last_log_id = l.max_id
FROM (SELECT job_id, max(id) AS max_id FROM provisioner_job_logs GROUP BY job_id) l
WHERE l.job_id = j.id;

-- Kept by a trigger so that no insert path can forget it.
CREATE FUNCTION kiln_job_last_log_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE provisioner_jobs j SET last_log_id = n.max_id
  FROM (SELECT job_id, max(id) AS max_id FROM inserted GROUP BY job_id) n
  WHERE j.id = n.job_id AND j.last_log_id < n.max_id;
  RETURN NULL;
END
$$;

CREATE TRIGGER provisioner_job_logs_last_id
  AFTER INSERT ON provisioner_job_logs
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION kiln_job_last_log_id();
