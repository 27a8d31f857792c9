import type { ProvisionerJob, ProvisionerType } from './provisionerJobs.js';

export interface Template {
  id: string;
  created_at: string;
  updated_at: string;
  organization_id: string;
  name: string;
  display_name: string;
  provisioner: ProvisionerType;
  active_version_id: string;
  workspace_owner_count: number;
  active_user_count: number;
  build_time_stats: Record<string, { P50: number | null; P95: number | null }>;
  description: string;
  icon: string;
  default_ttl_ms: number;
  created_by_id: string;
  created_by_name: string;
  allow_user_cancel_workspace_jobs: boolean;
}

export interface TemplateVersion {
  id: string;
  template_id?: string;
  organization_id: string;
  created_at: string;
  updated_at: string;
  name: string;
  job: ProvisionerJob;
  readme: string;
  created_by: { id: string; username: string };
}

export interface CreateTemplateVersionRequest {
  name?: string;
  template_id?: string;
  storage_method: 'file';
  file_id: string;
  provisioner: ProvisionerType;
  tags?: Record<string, string>;
}

export interface CreateTemplateRequest {
  name: string;
  display_name?: string;
  description?: string;
  icon?: string;
  template_version_id: string;
  default_ttl_ms?: number;
  allow_user_cancel_workspace_jobs?: boolean;
}

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
