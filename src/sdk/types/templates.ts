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
