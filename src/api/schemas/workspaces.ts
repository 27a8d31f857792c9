import { nameValuesBody } from './parameters.js';
import { arr, bool, int, obj, str, time, uuid } from './common.js';
import { parameterValuesSchema, workspaceBuildSchema } from './workspaceBuilds.js';

export const workspaceSchema = obj(
  {
    id: uuid,
    created_at: time,
    updated_at: time,
    owner_id: uuid,
    owner_name: str,
    organization_id: uuid,
    template_id: uuid,
    template_name: str,
    template_display_name: str,
    template_icon: str,
    template_allow_user_cancel_workspace_jobs: bool,
    latest_build: workspaceBuildSchema,
    outdated: bool,
    name: str,
    autostart_schedule: str,
    ttl_ms: int,
    last_used_at: time,
    deleted: bool,
  },
  [
    'id', 'created_at', 'updated_at', 'owner_id', 'owner_name', 'organization_id', 'template_id', 'template_name', 'template_display_name',
    'template_icon', 'template_allow_user_cancel_workspace_jobs', 'latest_build', 'outdated', 'name', 'last_used_at', 'deleted',
  ],
);

export const workspacesResponseSchema = obj({ workspaces: arr(workspaceSchema), count: int }, ['workspaces', 'count']);

export const createWorkspaceBody = {
  type: 'object',
  properties: {
    template_id: uuid,
    template_version_id: uuid,
    name: str,
    autostart_schedule: str,
    ttl_ms: { type: ['integer', 'null'] },
    parameter_values: parameterValuesSchema,
    rich_parameter_values: nameValuesBody,
  },
  required: ['template_id', 'name'],
};
