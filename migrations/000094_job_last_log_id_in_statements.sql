-- provisioner_jobs.last_log_id (000091) is now raised by the very statements that insert log lines
-- (src/db/queries/provisionerJobLogs.ts). The statement trigger that did it captured every inserted row in a transition
-- table and updated the job row a second time, about a tenth of the cost of a 2,000-line batch.
DROP TRIGGER provisioner_job_logs_last_id ON provisioner_job_logs;
DROP FUNCTION kiln_job_last_log_id();
