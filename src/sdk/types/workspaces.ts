import type { CreateParameterRequest, WorkspaceBuild } from './workspaceBuilds.js';
import type { WorkspaceBuildParameter } from './parameters.js';

export interface Workspace {
  id: string;
  created_at: string;
  updated_at: string;
  owner_id: string;
  owner_name: string;
  organization_id: string;
  template_id: string;
  template_name: string;
  template_display_name: string;
  template_icon: string;
  template_allow_user_cancel_workspace_jobs: boolean;
  latest_build: WorkspaceBuild;
  outdated: boolean;
  name: string;
  autostart_schedule?: string;
  ttl_ms?: number;
  last_used_at: string;
  deleted: boolean;
}

export interface CreateWorkspaceRequest {
  template_id: string;
  template_version_id?: string;
  name: string;
  autostart_schedule?: string;
  ttl_ms?: number;
  parameter_values?: CreateParameterRequest[];
  rich_parameter_values?: WorkspaceBuildParameter[] | null;
}

export interface WorkspacesResponse {
  workspaces: Workspace[];
  count: number;
}

export interface UpdateWorkspaceTTLRequest {
  ttl_ms: number | null;
}

export interface PutExtendWorkspaceRequest {
  deadline: string;
}
