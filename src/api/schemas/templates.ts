import { arr, bool, int, nullable, obj, str, time, uuid } from './common.js';
import { matchedProvisionersSchema } from './provisionerDaemons.js';
import { provisionerJobSchema } from './provisionerJobs.js';
import { userSchema } from './users.js';

const provisioner = { type: 'string', enum: ['echo', 'local', 'terraform'] } as const;
const msOrNull = nullable(int);

export const templateSchema = obj(
  {
    id: uuid,
    created_at: time,
    updated_at: time,
    organization_id: uuid,
    name: str,
    display_name: str,
    provisioner: str,
    active_version_id: uuid,
    workspace_owner_count: int,
    active_user_count: int,
    build_time_stats: { type: 'object', additionalProperties: obj({ P50: msOrNull, P95: msOrNull }, ['P50', 'P95']) },
    description: str,
    icon: str,
    default_ttl_ms: int,
    created_by_id: uuid,
    created_by_name: str,
    allow_user_cancel_workspace_jobs: bool,
  },
  [
    'id', 'created_at', 'updated_at', 'organization_id', 'name', 'display_name', 'provisioner', 'active_version_id', 'workspace_owner_count',
    'active_user_count', 'build_time_stats', 'description', 'icon', 'default_ttl_ms', 'created_by_id', 'created_by_name',
    'allow_user_cancel_workspace_jobs',
  ],
);

export const templateVersionSchema = obj(
  {
    id: uuid,
    template_id: uuid,
    organization_id: uuid,
    created_at: time,
    updated_at: time,
    name: str,
    job: provisionerJobSchema,
    readme: str,
    created_by: userSchema,
    matched_provisioners: matchedProvisionersSchema,
  },
  ['id', 'template_id', 'organization_id', 'created_at', 'updated_at', 'name', 'job', 'readme', 'created_by'],
);

// Request bodies: unknown fields are ignored, as in Coder. Go clients send `null` for unset maps and pointers and the
// zero UUID for an unset template_id, so those are accepted. Name rules are checked in the handlers, where each
// failure gets Coder's validator tag.

export const createTemplateVersionBody = {
  type: 'object',
  properties: {
    name: str,
    template_id: uuid,
    storage_method: { type: 'string', enum: ['file'] },
    file_id: uuid,
    provisioner,
    tags: { type: ['object', 'null'], additionalProperties: str },
  },
  required: ['storage_method', 'file_id', 'provisioner'],
};

export const createTemplateBody = {
  type: 'object',
  properties: {
    name: str,
    display_name: str,
    description: str,
    icon: str,
    template_version_id: uuid,
    default_ttl_ms: msOrNull,
    allow_user_cancel_workspace_jobs: nullable(bool),
  },
  required: ['name', 'template_version_id'],
};

export const updateTemplateMetaBody = {
  type: 'object',
  properties: {
    name: str,
    display_name: str,
    description: str,
    icon: str,
    default_ttl_ms: int,
    allow_user_cancel_workspace_jobs: bool,
  },
};

export const updateActiveTemplateVersionBody = { type: 'object', properties: { id: uuid }, required: ['id'] };

export const templateVersionsListSchema = arr(templateVersionSchema);
