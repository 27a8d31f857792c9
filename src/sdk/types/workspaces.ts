import { ParameterValues, WorkspaceBuild } from './workspaceBuilds.js';
import { Arr, Bool, Int, LIMITS, Obj, Opt, Req, Str, Time, Type, Uuid, type Static } from './wire.js';
import { NameValuesRequest } from './parameters.js';

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
