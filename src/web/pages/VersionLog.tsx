import { ErrorBanner } from '../components/ErrorBanner.js';
import { LogViewer } from '../components/LogViewer.js';
import { useJobLogs } from '../hooks/useJobLogs.js';
import { isJobDone } from '../lib/status.js';
import type { TemplateVersion } from '../sdk.js';

/** The import job's log of a template version: read once when done, followed live while it runs. */
export function VersionLog({ v }: { v: TemplateVersion }) {
  const done = isJobDone(v.job);
  const logs = useJobLogs({ kind: 'templateVersion', id: v.id }, done);
  return (
    <div className="version-log">
      {logs.state === 'error' && <ErrorBanner title="Could not read the import log." error={logs.error} />}
      <LogViewer logs={logs.logs} state={logs.state} jobDone={done} jobEnd={v.job.completed_at} emptyText="The import wrote no log lines." />
    </div>
  );
}
