import type { ProvisionerJob, ProvisionerType } from './provisionerJobs.js';
import type { User } from './users.js';

/** Build durations of one transition, in milliseconds; null when no successful build is on record. Keys as Coder's. */
export interface TransitionStats {
  P50: number | null;
  P95: number | null;
}

export interface Template {
  id: string;
  created_at: string;
  updated_at: string;
  organization_id: string;
  name: string;
  display_name: string;
  provisioner: ProvisionerType;
  active_version_id: string;
  /** Distinct owners of the template's non-deleted workspaces. */
  workspace_owner_count: number;
  /** Coder fills this from agent connection stats; kiln has none, so it is always 0. */
  active_user_count: number;
  /** Keyed by transition: `start`, `stop`, `delete`. */
  build_time_stats: Record<string, TransitionStats>;
  description: string;
  icon: string;
  default_ttl_ms: number;
  created_by_id: string;
  created_by_name: string;
  allow_user_cancel_workspace_jobs: boolean;
}

export interface TemplateVersion {
  id: string;
  /** As in Coder, always present: the zero UUID while the version belongs to no template. */
  template_id: string;
  organization_id: string;
  created_at: string;
  updated_at: string;
  name: string;
  /** The import job, with `queue_position`/`queue_size` while it is pending. */
  job: ProvisionerJob;
  readme: string;
  created_by: User;
  /** Daemons able to build this version (its tags); on the single-version responses only, as in Coder. */
  matched_provisioners?: MatchedProvisioners;
}

/** `count`: daemons whose tags and provisioners match; `available`: those seen within the stale interval. */
export interface MatchedProvisioners {
  count: number;
  available: number;
  most_recently_seen?: string;
}

export interface CreateTemplateVersionRequest {
  /** Generated (`adjective_noun` plus a digit) when absent. Unique within the template. */
  name?: string;
  /** Absent or the zero UUID: the version belongs to no template until a template is created from it. */
  template_id?: string;
  storage_method: 'file';
  file_id: string;
  provisioner: ProvisionerType;
  tags?: Record<string, string> | null;
}

export interface CreateTemplateRequest {
  name: string;
  display_name?: string;
  description?: string;
  icon?: string;
  template_version_id: string;
  default_ttl_ms?: number;
  /** Defaults to false: only site owners may then cancel builds of the template's workspaces. */
  allow_user_cancel_workspace_jobs?: boolean | null;
}

/**
 * Coder's PATCH semantics: an absent `name` or `description` keeps the current value; every other absent field takes
 * its zero value (`""`, `0`, `false`). A request that changes nothing is answered 304.
 */
export interface UpdateTemplateMeta {
  name?: string;
  display_name?: string;
  description?: string;
  icon?: string;
  default_ttl_ms?: number;
  allow_user_cancel_workspace_jobs?: boolean;
}

export interface UpdateActiveTemplateVersion {
  id: string;
}

export interface TemplateVersionsQuery {
  after_id?: string;
  limit?: number;
  offset?: number;
}
