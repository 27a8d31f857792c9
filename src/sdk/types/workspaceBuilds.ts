/**
 * Terminology.
 * - workspace: a user's development environment, made from a template.
 * - workspace build: one state change of a workspace (start, stop or delete), numbered from 1, executed by exactly
 *   one provisioner job. A build's status is derived from its job's timestamps and its transition.
 * - provisioner state: opaque bytes the provisioner returns, carried from each build to the next.
 */
import { MatchedProvisioners, ProvisionerJob } from './provisionerJobs.js';
import { Arr, Bool, Int, LIMITS, Nullable, Obj, Opt, Req, Str, StringEnum, StringMap, Time, Type, Uuid, type Static } from './wire.js';
import { NameValuesRequest } from './parameters.js';

export const WorkspaceTransition = StringEnum(['start', 'stop', 'delete']);
export type WorkspaceTransition = Static<typeof WorkspaceTransition>;
export const BuildReason = StringEnum(['initiator', 'autostart', 'autostop']);
export type BuildReason = Static<typeof BuildReason>;
export const WorkspaceStatus = StringEnum(['pending', 'starting', 'running', 'stopping', 'stopped', 'failed', 'canceling', 'canceled', 'deleting', 'deleted']);
export type WorkspaceStatus = Static<typeof WorkspaceStatus>;

export const WorkspaceAgentStatus = StringEnum(['connecting', 'connected', 'disconnected', 'timeout']);
export type WorkspaceAgentStatus = Static<typeof WorkspaceAgentStatus>;
export const LIFECYCLE_STATES = ['created', 'starting', 'start_timeout', 'start_error', 'ready', 'shutting_down', 'shutdown_timeout', 'shutdown_error', 'off'] as const;
export type WorkspaceAgentLifecycle = (typeof LIFECYCLE_STATES)[number];
export const WorkspaceAppHealth = StringEnum(['disabled', 'initializing', 'healthy', 'unhealthy']);
export type WorkspaceAppHealth = Static<typeof WorkspaceAppHealth>;
export const WorkspaceAppSharingLevel = StringEnum(['owner', 'authenticated', 'public']);
export type WorkspaceAppSharingLevel = Static<typeof WorkspaceAppSharingLevel>;

export const Healthcheck = Obj({
  url: Str(),
  /** Seconds between checks. */
  interval: Int(),
  /** Consecutive failures before `unhealthy`. */
  threshold: Int(),
});
export type Healthcheck = Static<typeof Healthcheck>;

export const WorkspaceAppOpenIn = StringEnum(['slim-window', 'tab']);
export type WorkspaceAppOpenIn = Static<typeof WorkspaceAppOpenIn>;

/** An app's status report (Coder's `WorkspaceAppStatus`); kiln has no reporting endpoint yet, so lists are empty. */
export const WorkspaceAppStatus = Obj({
  id: Uuid(),
  created_at: Time(),
  workspace_id: Uuid(),
  agent_id: Uuid(),
  app_id: Uuid(),
  state: StringEnum(['working', 'idle', 'complete', 'failure']),
  message: Str(),
  uri: Str(),
});
export type WorkspaceAppStatus = Static<typeof WorkspaceAppStatus>;

export const WorkspaceApp = Obj({
  id: Uuid(),
  slug: Str(),
  display_name: Str(),
  command: Opt(Str()),
  /** Always present, `""` for a command app, as current Coder sends it (December 2022 omitted it when empty). */
  url: Str(),
  icon: Opt(Str()),
  subdomain: Bool(),
  /** `<app>--<agent>--<workspace>--<owner>`: the label of the app's own host under the wildcard access URL. */
  subdomain_name: Opt(Str()),
  external: Bool(),
  sharing_level: WorkspaceAppSharingLevel,
  healthcheck: Healthcheck,
  health: WorkspaceAppHealth,
  // Later-Coder fields; kiln templates cannot set them yet, so they carry Coder's defaults.
  hidden: Bool(),
  open_in: WorkspaceAppOpenIn,
  statuses: Arr(WorkspaceAppStatus),
});
export type WorkspaceApp = Static<typeof WorkspaceApp>;

/** Coder's agent health: computed from connection status and lifecycle (see convert/workspaceResources.ts). */
export const WorkspaceAgentHealth = Obj({ healthy: Bool(), reason: Opt(Str()) });
export type WorkspaceAgentHealth = Static<typeof WorkspaceAgentHealth>;

export const DISPLAY_APPS = ['vscode', 'vscode_insiders', 'web_terminal', 'port_forwarding_helper', 'ssh_helper'] as const;
export const DisplayApp = StringEnum(DISPLAY_APPS);
export type DisplayApp = Static<typeof DisplayApp>;

/** Where an agent's log lines come from (Coder's `WorkspaceAgentLogSource`): one per script. */
export const WorkspaceAgentLogSource = Obj({ workspace_agent_id: Uuid(), id: Uuid(), created_at: Time(), display_name: Str(), icon: Str() });
export type WorkspaceAgentLogSource = Static<typeof WorkspaceAgentLogSource>;

/** One of an agent's scripts (Coder's `WorkspaceAgentScript`); `timeout` is a Go duration in nanoseconds. */
export const WorkspaceAgentScript = Obj({
  id: Uuid(),
  log_source_id: Uuid(),
  log_path: Str(),
  script: Str(),
  cron: Str(),
  run_on_start: Bool(),
  run_on_stop: Bool(),
  start_blocks_login: Bool(),
  timeout: Int(),
  display_name: Str(),
});
export type WorkspaceAgentScript = Static<typeof WorkspaceAgentScript>;

export const WorkspaceAgent = Obj({
  id: Uuid(),
  created_at: Time(),
  updated_at: Time(),
  first_connected_at: Opt(Time()),
  last_connected_at: Opt(Time()),
  disconnected_at: Opt(Time()),
  status: WorkspaceAgentStatus,
  // Served as a plain string (not an enum) since kiln's first version; the type still names the states.
  lifecycle_state: Type.Unsafe<WorkspaceAgentLifecycle>({ type: 'string' }),
  name: Str(),
  resource_id: Uuid(),
  instance_id: Opt(Str()),
  architecture: Str(),
  operating_system: Str(),
  environment_variables: StringMap(),
  startup_script: Opt(Str()),
  startup_script_timeout_seconds: Int(),
  shutdown_script: Opt(Str()),
  directory: Opt(Str()),
  version: Str(),
  apps: Arr(WorkspaceApp),
  connection_timeout_seconds: Int(),
  troubleshooting_url: Str(),
  /** Bytes of startup log stored; capped at 1 MiB, after which `startup_logs_overflowed` is set and lines are dropped. */
  startup_logs_length: Int(),
  startup_logs_overflowed: Bool(),
  // Later-Coder fields (see docs/compatibility.md for which are kiln's data and which Coder's zero values).
  logs_length: Int(),
  logs_overflowed: Bool(),
  parent_id: Nullable(Uuid()),
  api_version: Str(),
  subsystems: Arr(StringEnum(['envbox', 'envbuilder', 'exectrace'])),
  health: WorkspaceAgentHealth,
  display_apps: Arr(DisplayApp),
  log_sources: Arr(WorkspaceAgentLogSource),
  scripts: Arr(WorkspaceAgentScript),
  startup_script_behavior: StringEnum(['blocking', 'non-blocking']),
});
export type WorkspaceAgent = Static<typeof WorkspaceAgent>;

export const WorkspaceResourceMetadata = Obj({ key: Str(), value: Str(), sensitive: Bool() });
export type WorkspaceResourceMetadata = Static<typeof WorkspaceResourceMetadata>;

export const WorkspaceResource = Obj({
  id: Uuid(),
  created_at: Time(),
  job_id: Uuid(),
  workspace_transition: WorkspaceTransition,
  type: Str(),
  name: Str(),
  hide: Bool(),
  icon: Str(),
  agents: Opt(Arr(WorkspaceAgent)),
  metadata: Opt(Arr(WorkspaceResourceMetadata)),
  daily_cost: Int(),
});
export type WorkspaceResource = Static<typeof WorkspaceResource>;

export const WorkspaceBuild = Obj({
  id: Uuid(),
  created_at: Time(),
  updated_at: Time(),
  workspace_id: Uuid(),
  workspace_name: Str(),
  workspace_owner_id: Uuid(),
  workspace_owner_name: Str(),
  template_version_id: Uuid(),
  template_version_name: Str(),
  build_number: Int(),
  transition: WorkspaceTransition,
  initiator_id: Uuid(),
  initiator_name: Str(),
  job: ProvisionerJob,
  deadline: Nullable(Time()),
  reason: BuildReason,
  resources: Arr(WorkspaceResource),
  status: WorkspaceStatus,
  daily_cost: Int(),
  // Later-Coder fields.
  workspace_owner_avatar_url: Str(),
  /** Omitted: kiln templates have no maximum lifetime, so no build has a hard stop. */
  max_deadline: Opt(Time()),
  /** Always null: kiln has no template presets yet. */
  template_version_preset_id: Nullable(Uuid()),
  /** While the build's job is pending: the daemons that could run it. */
  matched_provisioners: Opt(MatchedProvisioners),
});
export type WorkspaceBuild = Static<typeof WorkspaceBuild>;

export const ParameterSourceScheme = StringEnum(['none', 'data']);
export type ParameterSourceScheme = Static<typeof ParameterSourceScheme>;
export const ParameterDestinationScheme = StringEnum(['none', 'environment_variable', 'provisioner_variable']);
export type ParameterDestinationScheme = Static<typeof ParameterDestinationScheme>;

export const CreateParameterRequest = Req({
  name: Str(LIMITS.name),
  source_value: Str(LIMITS.value),
  source_scheme: ParameterSourceScheme,
  destination_scheme: ParameterDestinationScheme,
  copy_from_parameter: Opt(Str(LIMITS.name)),
});
export type CreateParameterRequest = Static<typeof CreateParameterRequest>;
export const ParameterValues = Arr(CreateParameterRequest, LIMITS.items);

/** Unknown fields are ignored, as Coder's decoder does; `create` is not a transition here (deviation 1). */
export const CreateWorkspaceBuildRequest = Req({
  transition: WorkspaceTransition,
  template_version_id: Opt(Uuid()),
  dry_run: Opt(Bool()),
  /** Base64 of the replacement provisioner state (template managers only). */
  state: Opt(Type.String({ contentEncoding: 'base64', maxLength: LIMITS.state })),
  orphan: Opt(Bool()),
  parameter_values: Opt(ParameterValues),
  /** Rich parameter values; omitted ones carry over from the previous build (unless ephemeral), else the default. */
  rich_parameter_values: Opt(NameValuesRequest),
});
export type CreateWorkspaceBuildRequest = Static<typeof CreateWorkspaceBuildRequest>;

/** `PUT /workspacebuilds/{id}/state`: the replacement provisioner state, base64. */
export const UpdateWorkspaceBuildStateRequest = Req({ state: Type.String({ contentEncoding: 'base64', maxLength: LIMITS.state }) });
export type UpdateWorkspaceBuildStateRequest = Static<typeof UpdateWorkspaceBuildStateRequest>;

export const TimingStage = StringEnum(['init', 'plan', 'graph', 'apply', 'start', 'stop', 'cron', 'connect']);
export type TimingStage = Static<typeof TimingStage>;

/** One provisioner stage of a build's job (Coder's `ProvisionerTiming`). */
export const ProvisionerTiming = Obj({ job_id: Uuid(), started_at: Time(), ended_at: Time(), stage: TimingStage, source: Str(), action: Str(), resource: Str() });
export type ProvisionerTiming = Static<typeof ProvisionerTiming>;

/** One run of an agent script (Coder's `AgentScriptTiming`). */
export const AgentScriptTiming = Obj({
  started_at: Time(),
  ended_at: Time(),
  exit_code: Int(),
  stage: TimingStage,
  status: Str(),
  display_name: Str(),
  workspace_agent_id: Uuid(),
  workspace_agent_name: Str(),
});
export type AgentScriptTiming = Static<typeof AgentScriptTiming>;

/** From an agent's creation to its first connection (Coder's `AgentConnectionTiming`). */
export const AgentConnectionTiming = Obj({ started_at: Time(), ended_at: Time(), stage: TimingStage, workspace_agent_id: Uuid(), workspace_agent_name: Str() });
export type AgentConnectionTiming = Static<typeof AgentConnectionTiming>;

/** `GET /workspacebuilds/{id}/timings` (Coder's `WorkspaceBuildTimings`). */
export const WorkspaceBuildTimings = Obj({
  provisioner_timings: Arr(ProvisionerTiming),
  agent_script_timings: Arr(AgentScriptTiming),
  agent_connection_timings: Arr(AgentConnectionTiming),
});
export type WorkspaceBuildTimings = Static<typeof WorkspaceBuildTimings>;
