import { MatchedProvisioners, ProvisionerJob } from './provisionerJobs.js';
import { User } from './users.js';
import { Arr, Bool, Int, LIMITS, Nullable, Obj, Opt, Req, Str, StringEnum, Time, Type, Uuid, type Static } from './wire.js';
import { NameValuesRequest } from './parameters.js';

export const ProvisionerTypeSchema = StringEnum(['echo', 'local', 'terraform']);

/** Build durations of one transition, in milliseconds; null when no successful build is on record. Keys as Coder's. */
export const TransitionStats = Obj({ P50: Nullable(Int()), P95: Nullable(Int()) });
export type TransitionStats = Static<typeof TransitionStats>;

export const Template = Obj({
  id: Uuid(),
  created_at: Time(),
  updated_at: Time(),
  organization_id: Uuid(),
  name: Str(),
  display_name: Str(),
  // Served as a plain string; kiln only ever writes one of its provisioner types.
  provisioner: Type.Unsafe<'echo' | 'local' | 'terraform'>({ type: 'string' }),
  active_version_id: Uuid(),
  /** Distinct owners of the template's non-deleted workspaces. */
  workspace_owner_count: Int(),
  /** Coder fills this from agent connection stats; kiln has none, so it is always 0. */
  active_user_count: Int(),
  /** Keyed by transition: `start`, `stop`, `delete`. */
  build_time_stats: Type.Unsafe<Record<string, TransitionStats>>({ type: 'object', additionalProperties: TransitionStats }),
  description: Str(),
  icon: Str(),
  default_ttl_ms: Int(),
  created_by_id: Uuid(),
  created_by_name: Str(),
  allow_user_cancel_workspace_jobs: Bool(),
  // Later-Coder fields: kiln's data where it has it (the organization), Coder's defaults for scheduling features
  // kiln does not have (no autostop requirement, user autostart/autostop allowed, no dormancy, no deprecation).
  organization_name: Str(),
  organization_display_name: Str(),
  organization_icon: Str(),
  deprecated: Bool(),
  deprecation_message: Str(),
  activity_bump_ms: Int(),
  autostop_requirement: Obj({ days_of_week: Arr(Str()), weeks: Int() }),
  autostart_requirement: Obj({ days_of_week: Arr(Str()) }),
  allow_user_autostart: Bool(),
  allow_user_autostop: Bool(),
  failure_ttl_ms: Int(),
  time_til_dormant_ms: Int(),
  time_til_dormant_autodelete_ms: Int(),
  require_active_version: Bool(),
  max_port_share_level: StringEnum(['owner', 'authenticated', 'public']),
});
export type Template = Static<typeof Template>;

export const TemplateVersion = Obj({
  id: Uuid(),
  /** As in Coder, always present: the zero UUID while the version belongs to no template. */
  template_id: Uuid(),
  organization_id: Uuid(),
  created_at: Time(),
  updated_at: Time(),
  name: Str(),
  /** The import job, with `queue_position`/`queue_size` while it is pending. */
  job: ProvisionerJob,
  readme: Str(),
  created_by: User,
  message: Str(),
  archived: Bool(),
  /** While the import job is pending: the daemons that could run it. */
  matched_provisioners: Opt(MatchedProvisioners),
});
export type TemplateVersion = Static<typeof TemplateVersion>;

/** `POST /templateversions/{id}/dry-run`: a plan of a would-be workspace's `start`. */
export const CreateTemplateVersionDryRunRequest = Req({
  workspace_name: Opt(Str(LIMITS.name)),
  parameter_values: Opt(
    Type.Unsafe<{ name: string; source_value: string; source_scheme?: 'data'; destination_scheme: 'environment_variable' | 'provisioner_variable' }[] | null>({
      type: ['array', 'null'],
      maxItems: LIMITS.items,
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: LIMITS.name },
          source_value: { type: 'string', maxLength: LIMITS.value },
          source_scheme: { type: 'string', enum: ['data'] },
          destination_scheme: { type: 'string', enum: ['environment_variable', 'provisioner_variable'] },
        },
        required: ['name', 'source_value', 'destination_scheme'],
      },
    }),
  ),
});
export type CreateTemplateVersionDryRunRequest = Static<typeof CreateTemplateVersionDryRunRequest>;

// Request bodies: unknown fields are ignored, as in Coder. Go clients send `null` for unset maps and pointers and the
// zero UUID for an unset template_id, so those are accepted. Name rules are checked in the handlers, where each
// failure gets Coder's validator tag.

export const CreateTemplateVersionRequest = Req({
  /** Generated (`adjective_noun` plus a digit) when absent. Unique within the template. */
  name: Opt(Str(LIMITS.name)),
  /** Absent or the zero UUID: the version belongs to no template until a template is created from it. */
  template_id: Opt(Uuid()),
  storage_method: StringEnum(['file']),
  file_id: Uuid(),
  provisioner: ProvisionerTypeSchema,
  tags: Opt(Type.Unsafe<Record<string, string> | null>({ type: ['object', 'null'], additionalProperties: { type: 'string', maxLength: LIMITS.short }, maxProperties: LIMITS.entries })),
  /** Template variable values; omitted: the template's active version's values are reused. */
  user_variable_values: Opt(NameValuesRequest),
});
export type CreateTemplateVersionRequest = Static<typeof CreateTemplateVersionRequest>;

const MsOrNull = Nullable(Int());

export const CreateTemplateRequest = Req({
  name: Str(LIMITS.name),
  display_name: Opt(Str(LIMITS.short)),
  description: Opt(Str(LIMITS.description)),
  icon: Opt(Str(LIMITS.short)),
  template_version_id: Uuid(),
  default_ttl_ms: Opt(MsOrNull),
  /** Defaults to false: only site owners may then cancel builds of the template's workspaces. */
  allow_user_cancel_workspace_jobs: Opt(Nullable(Bool())),
});
export type CreateTemplateRequest = Static<typeof CreateTemplateRequest>;

/**
 * Coder's PATCH semantics: an absent `name` or `description` keeps the current value; every other absent field takes
 * its zero value (`""`, `0`, `false`). A request that changes nothing is answered 304.
 */
export const UpdateTemplateMeta = Req({
  name: Opt(Str(LIMITS.name)),
  display_name: Opt(Str(LIMITS.short)),
  description: Opt(Str(LIMITS.description)),
  icon: Opt(Str(LIMITS.short)),
  default_ttl_ms: Opt(Int()),
  allow_user_cancel_workspace_jobs: Opt(Bool()),
});
export type UpdateTemplateMeta = Static<typeof UpdateTemplateMeta>;

export const UpdateActiveTemplateVersion = Req({ id: Uuid() });
export type UpdateActiveTemplateVersion = Static<typeof UpdateActiveTemplateVersion>;

export interface TemplateVersionsQuery {
  after_id?: string;
  limit?: number;
  offset?: number;
}

export const TemplateVersions = Arr(TemplateVersion);

/** One of kiln's example templates (Coder's `TemplateExample`). */
export const TemplateExample = Obj({ id: Str(), url: Str(), name: Str(), description: Str(), icon: Str(), tags: Arr(Str()), markdown: Str() });
export type TemplateExample = Static<typeof TemplateExample>;

/** Daily active users (Coder's `DAUsResponse`); kiln records no agent sessions, so `entries` is empty. */
export const DAUsResponse = Obj({ entries: Arr(Obj({ date: Str(), amount: Int() })), tz_hour_offset: Int() });
export type DAUsResponse = Static<typeof DAUsResponse>;

/** A template's access list (Coder's `TemplateACL`): kiln has no per-template grants, so both lists are empty. */
export const TemplateACL = Obj({ users: Arr(User), group: Arr(Obj({ id: Uuid(), name: Str() }, { additionalProperties: true })) });
export type TemplateACL = Static<typeof TemplateACL>;

/** A template version's external-auth requirement (Coder's `TemplateVersionExternalAuth`); kiln has none yet. */
export const TemplateVersionExternalAuth = Obj({
  id: Str(),
  type: Str(),
  display_name: Str(),
  display_icon: Str(),
  authenticate_url: Str(),
  authenticated: Bool(),
  optional: Opt(Bool()),
});

/** A template preset (Coder's `Preset`, whose keys are capitalized on the wire); kiln has none yet. */
export const Preset = Obj({ ID: Uuid(), Name: Str(), Parameters: Arr(Obj({ Name: Str(), Value: Str() })) });

/** A legacy parameter schema (December 2022's `ParameterSchema`); kiln templates declare none, so lists are empty. */
export const ParameterSchema = Obj({ id: Uuid(), created_at: Time(), job_id: Uuid(), name: Str(), description: Str() }, { additionalProperties: true });
