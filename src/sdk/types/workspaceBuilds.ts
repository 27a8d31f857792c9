import type { MatchedProvisioners, ProvisionerJob } from './provisionerJobs.js';

/**
 * Terminology.
 * - workspace: a user's development environment, made from a template.
 * - workspace build: one state change of a workspace (start, stop or delete), numbered from 1, executed by exactly
 *   one provisioner job. A build's status is derived from its job's timestamps and its transition.
 * - provisioner state: opaque bytes the provisioner returns, carried from each build to the next.
 */
export type WorkspaceTransition = 'start' | 'stop' | 'delete';
export type BuildReason = 'initiator' | 'autostart' | 'autostop';
export type WorkspaceStatus =
  | 'pending'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'failed'
  | 'canceling'
  | 'canceled'
  | 'deleting'
  | 'deleted';

export type WorkspaceAgentStatus = 'connecting' | 'connected' | 'disconnected' | 'timeout';
export type WorkspaceAgentLifecycle =
  | 'created'
  | 'starting'
  | 'start_timeout'
  | 'start_error'
  | 'ready'
  | 'shutting_down'
  | 'shutdown_timeout'
  | 'shutdown_error'
  | 'off';
export type WorkspaceAppHealth = 'disabled' | 'initializing' | 'healthy' | 'unhealthy';
export type WorkspaceAppSharingLevel = 'owner' | 'authenticated' | 'public';

export interface Healthcheck {
  url: string;
  /** Seconds between checks. */
  interval: number;
  /** Consecutive failures before `unhealthy`. */
  threshold: number;
}

export interface WorkspaceApp {
  id: string;
  slug: string;
  display_name: string;
  command?: string;
  url?: string;
  icon?: string;
  subdomain: boolean;
  external: boolean;
  sharing_level: WorkspaceAppSharingLevel;
  healthcheck: Healthcheck;
  health: WorkspaceAppHealth;
}

export interface WorkspaceAgent {
  id: string;
  created_at: string;
  updated_at: string;
  first_connected_at?: string;
  last_connected_at?: string;
  disconnected_at?: string;
  status: WorkspaceAgentStatus;
  lifecycle_state: WorkspaceAgentLifecycle;
  name: string;
  resource_id: string;
  instance_id?: string;
  architecture: string;
  operating_system: string;
  environment_variables: Record<string, string>;
  startup_script?: string;
  startup_script_timeout_seconds: number;
  shutdown_script?: string;
  directory?: string;
  version: string;
  apps: WorkspaceApp[];
  connection_timeout_seconds: number;
  troubleshooting_url: string;
  /** Bytes of startup log stored; capped at 1 MiB, after which `startup_logs_overflowed` is set and lines are dropped. */
  startup_logs_length: number;
  startup_logs_overflowed: boolean;
}

export interface WorkspaceResourceMetadata {
  key: string;
  value: string;
  sensitive: boolean;
}

export interface WorkspaceResource {
  id: string;
  created_at: string;
  job_id: string;
  workspace_transition: WorkspaceTransition;
  type: string;
  name: string;
  hide: boolean;
  icon: string;
  agents?: WorkspaceAgent[];
  metadata?: WorkspaceResourceMetadata[];
  daily_cost: number;
}

export interface WorkspaceBuild {
  id: string;
  created_at: string;
  updated_at: string;
  workspace_id: string;
  workspace_name: string;
  workspace_owner_id: string;
  workspace_owner_name: string;
  template_version_id: string;
  template_version_name: string;
  build_number: number;
  transition: WorkspaceTransition;
  initiator_id: string;
  initiator_name: string;
  job: ProvisionerJob;
  deadline: string | null;
  reason: BuildReason;
  resources: WorkspaceResource[];
  status: WorkspaceStatus;
  daily_cost: number;
  /** While the build's job is pending: the daemons that could run it. */
  matched_provisioners?: MatchedProvisioners;
}

export type ParameterSourceScheme = 'none' | 'data';
export type ParameterDestinationScheme = 'none' | 'environment_variable' | 'provisioner_variable';

export interface CreateParameterRequest {
  name: string;
  source_value: string;
  source_scheme: ParameterSourceScheme;
  destination_scheme: ParameterDestinationScheme;
  copy_from_parameter?: string;
}

export interface CreateWorkspaceBuildRequest {
  transition: WorkspaceTransition;
  template_version_id?: string;
  dry_run?: boolean;
  /** Base64 of the replacement provisioner state (template managers only). */
  state?: string;
  orphan?: boolean;
  parameter_values?: CreateParameterRequest[];
}
