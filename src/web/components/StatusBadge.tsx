import type { ReactNode } from 'react';

import type { ProvisionerJobStatus, WorkspaceStatus } from '../sdk.js';
import { isJobActive, isTransitional, jobTone, workspaceTone, type Tone } from '../lib/status.js';

export function Badge({ tone, active = false, children, testId }: { tone: Tone; active?: boolean; children: ReactNode; testId?: string }) {
  return (
    <span className={`badge badge-${tone}${active ? ' badge-active' : ''}`} data-testid={testId}>
      <span className="badge-dot" aria-hidden="true" />
      {children}
    </span>
  );
}

export function WorkspaceStatusBadge({ status, testId }: { status: WorkspaceStatus; testId?: string }) {
  return (
    <Badge tone={workspaceTone(status)} active={isTransitional(status)} testId={testId}>
      {status}
    </Badge>
  );
}

export function JobStatusBadge({ status, testId }: { status: ProvisionerJobStatus; testId?: string }) {
  return (
    <Badge tone={jobTone(status)} active={isJobActive(status)} testId={testId}>
      {status}
    </Badge>
  );
}
