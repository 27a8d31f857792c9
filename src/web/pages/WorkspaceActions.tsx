import { useState } from 'react';

import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { client } from '../lib/client.js';
import { isTransitional } from '../lib/status.js';
import type { Workspace, WorkspaceBuild } from '../sdk.js';

type Action = 'start' | 'stop' | 'restart' | 'delete' | 'cancel';

/** Which actions make sense in each status; the server still has the last word and its refusals are shown. */
function actionsFor(w: Workspace): Action[] {
  const s = w.latest_build.status;
  if (w.deleted || s === 'deleted' || s === 'canceling') return [];
  if (isTransitional(s)) return ['cancel'];
  if (s === 'running') return ['stop', 'restart', 'delete'];
  if (s === 'stopped') return ['start', 'delete'];
  return ['start', 'stop', 'delete']; // failed, canceled: retry either way, or give up
}

const LABELS: Record<Action, string> = { start: 'Start', stop: 'Stop', restart: 'Restart', delete: 'Delete', cancel: 'Cancel build' };

export interface WorkspaceActionsProps {
  w: Workspace;
  /** A build was created (restart: its stop build). */
  onBuild: (b: WorkspaceBuild, action: Action) => void;
  onCanceled: () => void;
}

export function WorkspaceActions({ w, onBuild, onCanceled }: WorkspaceActionsProps) {
  const [open, setOpen] = useState<Action | null>(null);
  const [orphan, setOrphan] = useState(false);
  const build = w.latest_build;
  const close = () => {
    setOpen(null);
    setOrphan(false);
  };
  const create = async (action: Action, transition: 'start' | 'stop' | 'delete', extra: { orphan?: boolean } = {}) => {
    onBuild(await client.createWorkspaceBuild(w.id, { transition, ...extra }), action);
  };

  return (
    <>
      {actionsFor(w).map((a) => (
        <button
          key={a}
          type="button"
          className={a === 'delete' || a === 'cancel' ? 'btn btn-danger-outline' : a === 'start' ? 'btn btn-primary' : 'btn'}
          onClick={() => setOpen(a)}
        >
          {LABELS[a]}
        </button>
      ))}
      {open === 'start' && (
        <ConfirmDialog title={`Start ${w.name}?`} confirmLabel="Start" onClose={close} onConfirm={() => create('start', 'start')}>
          A start build runs the template&rsquo;s start script with the workspace&rsquo;s current state.
        </ConfirmDialog>
      )}
      {open === 'stop' && (
        <ConfirmDialog title={`Stop ${w.name}?`} confirmLabel="Stop" onClose={close} onConfirm={() => create('stop', 'stop')}>
          A stop build runs the template&rsquo;s stop script. The workspace keeps its state; start it again at any time.
        </ConfirmDialog>
      )}
      {open === 'restart' && (
        <ConfirmDialog title={`Restart ${w.name}?`} confirmLabel="Restart" onClose={close} onConfirm={() => create('restart', 'stop')}>
          The workspace is stopped, then started again once the stop build succeeds. Keep this page open until the start
          build is queued.
        </ConfirmDialog>
      )}
      {open === 'delete' && (
        <ConfirmDialog
          title={`Delete ${w.name}?`}
          confirmLabel="Delete workspace"
          danger
          requireText={w.name}
          onClose={close}
          onConfirm={() => create('delete', 'delete', orphan ? { orphan: true } : {})}
        >
          <p>A delete build destroys the workspace&rsquo;s resources. This cannot be undone.</p>
          <label className="check">
            <input type="checkbox" checked={orphan} onChange={(e) => setOrphan(e.target.checked)} />
            <span>
              Orphan: delete without running the provisioner, leaving its resources in place (for a workspace whose
              builds can no longer run).
            </span>
          </label>
        </ConfirmDialog>
      )}
      {open === 'cancel' && (
        <ConfirmDialog
          title={`Cancel build #${build.build_number}?`}
          confirmLabel="Cancel build"
          dismissLabel="Keep it"
          danger
          onClose={close}
          onConfirm={async () => {
            const status = build.job.status;
            await client.cancelWorkspaceBuild(build.id, status === 'pending' || status === 'running' ? { expect_status: status } : {});
            onCanceled();
          }}
        >
          The {build.transition} build stops where it is and ends as canceled.
        </ConfirmDialog>
      )}
    </>
  );
}
