import { arr, bool, int, nullable, obj, str, stringMap, time, uuid } from './common.js';
import { matchedProvisionersSchema, provisionerJobSchema } from './provisionerJobs.js';

const transition = { type: 'string', enum: ['start', 'stop', 'delete'] };
const workspaceStatus = {
  type: 'string',
  enum: ['pending', 'starting', 'running', 'stopping', 'stopped', 'failed', 'canceling', 'canceled', 'deleting', 'deleted'],
};

export const workspaceAppSchema = obj(
  {
    id: uuid,
    slug: str,
    display_name: str,
    command: str,
    url: str,
    icon: str,
    subdomain: bool,
    external: bool,
    sharing_level: { type: 'string', enum: ['owner', 'authenticated', 'public'] },
    healthcheck: obj({ url: str, interval: int, threshold: int }, ['url', 'interval', 'threshold']),
    health: { type: 'string', enum: ['disabled', 'initializing', 'healthy', 'unhealthy'] },
  },
  ['id', 'slug', 'display_name', 'subdomain', 'external', 'sharing_level', 'healthcheck', 'health'],
);

export const workspaceAgentSchema = obj(
  {
    id: uuid,
    created_at: time,
    updated_at: time,
    first_connected_at: time,
    last_connected_at: time,
    disconnected_at: time,
    status: { type: 'string', enum: ['connecting', 'connected', 'disconnected', 'timeout'] },
    lifecycle_state: str,
    name: str,
    resource_id: uuid,
    instance_id: str,
    architecture: str,
    operating_system: str,
    environment_variables: stringMap,
    startup_script: str,
    startup_script_timeout_seconds: int,
    shutdown_script: str,
    directory: str,
    version: str,
    apps: arr(workspaceAppSchema),
    connection_timeout_seconds: int,
    troubleshooting_url: str,
    startup_logs_length: int,
    startup_logs_overflowed: bool,
  },
  ['id', 'created_at', 'updated_at', 'status', 'lifecycle_state', 'name', 'resource_id', 'architecture', 'operating_system', 'environment_variables', 'version', 'apps', 'connection_timeout_seconds', 'troubleshooting_url'],
);

export const workspaceResourceSchema = obj(
  {
    id: uuid,
    created_at: time,
    job_id: uuid,
    workspace_transition: transition,
    type: str,
    name: str,
    hide: bool,
    icon: str,
    agents: arr(workspaceAgentSchema),
    metadata: arr(obj({ key: str, value: str, sensitive: bool }, ['key', 'value', 'sensitive'])),
    daily_cost: int,
  },
  ['id', 'created_at', 'job_id', 'workspace_transition', 'type', 'name', 'hide', 'icon', 'daily_cost'],
);

export const workspaceBuildSchema = obj(
  {
    id: uuid,
    created_at: time,
    updated_at: time,
    workspace_id: uuid,
    workspace_name: str,
    workspace_owner_id: uuid,
    workspace_owner_name: str,
    template_version_id: uuid,
    template_version_name: str,
    build_number: int,
    transition,
    initiator_id: uuid,
    initiator_name: str,
    job: provisionerJobSchema,
    deadline: nullable(time),
    reason: { type: 'string', enum: ['initiator', 'autostart', 'autostop'] },
    resources: arr(workspaceResourceSchema),
    status: workspaceStatus,
    daily_cost: int,
    matched_provisioners: matchedProvisionersSchema,
  },
  [
    'id', 'created_at', 'updated_at', 'workspace_id', 'workspace_name', 'workspace_owner_id', 'workspace_owner_name', 'template_version_id',
    'template_version_name', 'build_number', 'transition', 'initiator_id', 'initiator_name', 'job', 'deadline', 'reason', 'resources', 'status', 'daily_cost',
  ],
);

const parameterValue = {
  type: 'object',
  properties: {
    name: str,
    source_value: str,
    source_scheme: { type: 'string', enum: ['none', 'data'] },
    destination_scheme: { type: 'string', enum: ['none', 'environment_variable', 'provisioner_variable'] },
    copy_from_parameter: str,
  },
  required: ['name', 'source_value', 'source_scheme', 'destination_scheme'],
};

/** Unknown fields are ignored, as Coder's decoder does; `create` is not a transition here (deviation 1). */
export const createWorkspaceBuildBody = {
  type: 'object',
  properties: {
    transition,
    template_version_id: uuid,
    dry_run: bool,
    state: { type: 'string', contentEncoding: 'base64' },
    orphan: bool,
    parameter_values: arr(parameterValue),
  },
  required: ['transition'],
};

export const parameterValuesSchema = arr(parameterValue);
