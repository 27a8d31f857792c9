import type { TemplateRow, TemplateVersionRow } from '../../db/queries/templates.js';
import type { ProvisionerJob, ProvisionerType } from '../../sdk/types/provisionerJobs.js';
import type { Template, TemplateVersion, TransitionStats } from '../../sdk/types/templates.js';
import type { User } from '../../sdk/types/users.js';

import { rfc3339 } from './time.js';

/** Go's uuid.Nil: Coder always writes a version's template_id, the zero UUID when it belongs to no template. */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

const TRANSITIONS = ['start', 'stop', 'delete'] as const;

export interface TemplateExtras {
  createdByName: string;
  organizationName: string;
  workspaceOwnerCount: number;
  /** Per transition; transitions without successful builds are filled with nulls. */
  buildTimeStats: Partial<Record<(typeof TRANSITIONS)[number], TransitionStats>>;
}

export function convertTemplate(t: TemplateRow, x: TemplateExtras): Template {
  const stats: Record<string, TransitionStats> = {};
  for (const tr of TRANSITIONS) stats[tr] = x.buildTimeStats[tr] ?? { P50: null, P95: null };
  return {
    id: t.id,
    created_at: rfc3339(t.created_at),
    updated_at: rfc3339(t.updated_at),
    organization_id: t.organization_id,
    name: t.name,
    display_name: t.display_name,
    provisioner: t.provisioner as ProvisionerType,
    active_version_id: t.active_version_id,
    workspace_owner_count: x.workspaceOwnerCount,
    // Coder derives this from agent connection stats, which kiln does not collect.
    active_user_count: 0,
    build_time_stats: stats,
    description: t.description,
    icon: t.icon,
    default_ttl_ms: t.default_ttl_ms,
    created_by_id: t.created_by,
    created_by_name: x.createdByName,
    organization_name: x.organizationName,
    organization_display_name: x.organizationName,
    organization_icon: '',
    deprecated: false,
    deprecation_message: '',
    activity_bump_ms: 0,
    autostop_requirement: { days_of_week: [], weeks: 1 },
    autostart_requirement: { days_of_week: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] },
    allow_user_autostart: true,
    allow_user_autostop: true,
    failure_ttl_ms: 0,
    time_til_dormant_ms: 0,
    time_til_dormant_autodelete_ms: 0,
    require_active_version: false,
    max_port_share_level: 'owner',
    allow_user_cancel_workspace_jobs: t.allow_user_cancel_workspace_jobs,
  };
}

export function convertTemplateVersion(v: TemplateVersionRow, job: ProvisionerJob, createdBy: User): TemplateVersion {
  return {
    id: v.id,
    template_id: v.template_id ?? ZERO_UUID,
    organization_id: v.organization_id,
    created_at: rfc3339(v.created_at),
    updated_at: rfc3339(v.updated_at),
    name: v.name,
    job,
    readme: v.readme,
    created_by: createdBy,
    // Later Coder: kiln versions carry no message and are never archived.
    message: '',
    archived: false,
  };
}
