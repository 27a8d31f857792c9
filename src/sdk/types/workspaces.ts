import { ParameterValues, WorkspaceBuild } from './workspaceBuilds.js';
import { Arr, Bool, Int, LIMITS, Nullable, Obj, Opt, Req, Str, StringEnum, Time, Type, Uuid, type Static } from './wire.js';
import { NameValuesRequest } from './parameters.js';

/** Healthy when every agent of the latest build is; `failing_agents` lists the ids of those that are not. */
export const WorkspaceHealth = Obj({ healthy: Bool(), failing_agents: Arr(Uuid()) });
export type WorkspaceHealth = Static<typeof WorkspaceHealth>;

export const Workspace = Obj({
  id: Uuid(),
  created_at: Time(),
  updated_at: Time(),
  owner_id: Uuid(),
  owner_name: Str(),
  organization_id: Uuid(),
  template_id: Uuid(),
  template_name: Str(),
  template_display_name: Str(),
  template_icon: Str(),
  template_allow_user_cancel_workspace_jobs: Bool(),
  latest_build: WorkspaceBuild,
  outdated: Bool(),
  name: Str(),
  autostart_schedule: Opt(Str()),
  ttl_ms: Opt(Int()),
  last_used_at: Time(),
  deleted: Bool(),
  // Later-Coder fields: kiln's data where it has it, Coder's zero values where it has none (docs/compatibility.md).
  owner_avatar_url: Str(),
  organization_name: Str(),
  template_active_version_id: Uuid(),
  template_require_active_version: Bool(),
  health: WorkspaceHealth,
  automatic_updates: StringEnum(['always', 'never']),
  allow_renames: Bool(),
  favorite: Bool(),
  deleting_at: Nullable(Time()),
  dormant_at: Nullable(Time()),
  next_start_at: Nullable(Time()),
  latest_app_status: Type.Unsafe<null>({ type: 'null' }),
  is_prebuild: Bool(),
  template_use_classic_parameter_flow: Bool(),
});
export type Workspace = Static<typeof Workspace>;

export const WorkspacesResponse = Obj({ workspaces: Arr(Workspace), count: Int() });
export type WorkspacesResponse = Static<typeof WorkspacesResponse>;

/** Go clients send `null` for an unset pointer. */
const TtlMs = Type.Unsafe<number | null>({ type: ['integer', 'null'] });

export const CreateWorkspaceRequest = Req({
  template_id: Uuid(),
  template_version_id: Opt(Uuid()),
  name: Str(LIMITS.name),
  autostart_schedule: Opt(Str(LIMITS.short)),
  ttl_ms: Opt(TtlMs),
  parameter_values: Opt(ParameterValues),
  rich_parameter_values: Opt(NameValuesRequest),
});
export type CreateWorkspaceRequest = Static<typeof CreateWorkspaceRequest>;

// These two were closed from the start (unknown fields answer 400); kept so.
export const UpdateWorkspaceTTLRequest = Obj({ ttl_ms: Opt(TtlMs) });
export type UpdateWorkspaceTTLRequest = Static<typeof UpdateWorkspaceTTLRequest>;

export const PutExtendWorkspaceRequest = Obj({ deadline: Time() });
export type PutExtendWorkspaceRequest = Static<typeof PutExtendWorkspaceRequest>;

/** `PATCH /workspaces/{id}`: an absent or unchanged name changes nothing. */
export const UpdateWorkspaceRequest = Req({ name: Opt(Str(LIMITS.name)) });
export type UpdateWorkspaceRequest = Static<typeof UpdateWorkspaceRequest>;

/** `PUT /workspaces/{id}/autostart`: a cron schedule (`[CRON_TZ=<zone> ]min hour * * dow`); absent or `""` unsets it. */
export const UpdateWorkspaceAutostartRequest = Req({ schedule: Opt(Str(LIMITS.short)) });
export type UpdateWorkspaceAutostartRequest = Static<typeof UpdateWorkspaceAutostartRequest>;
