import type { Queryable } from '../pool.js';

/** Read side of what jobs produce: resources, their metadata, agents and apps, each in provisioner order. */

export interface WorkspaceResourceRow {
  id: string;
  created_at: Date;
  job_id: string;
  transition: 'start' | 'stop' | 'delete';
  type: string;
  name: string;
  hide: boolean;
  icon: string;
  instance_type: string | null;
  daily_cost: number;
  ordinal: number;
}

export interface WorkspaceResourceMetadataRow {
  id: number;
  workspace_resource_id: string;
  key: string;
  value: string | null;
  sensitive: boolean;
}

export interface WorkspaceAgentRow {
  id: string;
  created_at: Date;
  updated_at: Date;
  name: string;
  resource_id: string;
  auth_token: string;
  auth_instance_id: string | null;
  architecture: string;
  operating_system: string;
  environment_variables: Record<string, string>;
  startup_script: string | null;
  startup_script_timeout_seconds: number;
  shutdown_script: string | null;
  directory: string;
  version: string;
  connection_timeout_seconds: number;
  troubleshooting_url: string;
  first_connected_at: Date | null;
  last_connected_at: Date | null;
  disconnected_at: Date | null;
  lifecycle_state: string;
  ordinal: number;
}

export interface WorkspaceAppRow {
  id: string;
  created_at: Date;
  agent_id: string;
  slug: string;
  display_name: string;
  icon: string;
  command: string | null;
  url: string | null;
  healthcheck_url: string;
  healthcheck_interval: number;
  healthcheck_threshold: number;
  health: 'disabled' | 'initializing' | 'healthy' | 'unhealthy';
  subdomain: boolean;
  sharing_level: 'owner' | 'authenticated' | 'public';
  external: boolean;
  ordinal: number;
}

export async function getResourcesByJobIDs(db: Queryable, jobIds: string[]): Promise<WorkspaceResourceRow[]> {
  if (jobIds.length === 0) return [];
  const { rows } = await db.query<WorkspaceResourceRow>('SELECT * FROM workspace_resources WHERE job_id = ANY($1::uuid[]) ORDER BY ordinal, created_at', [jobIds]);
  return rows;
}

export async function getMetadataByResourceIDs(db: Queryable, resourceIds: string[]): Promise<WorkspaceResourceMetadataRow[]> {
  if (resourceIds.length === 0) return [];
  const { rows } = await db.query<WorkspaceResourceMetadataRow>(
    'SELECT * FROM workspace_resource_metadata WHERE workspace_resource_id = ANY($1::uuid[]) ORDER BY id',
    [resourceIds],
  );
  return rows;
}

export async function getAgentsByResourceIDs(db: Queryable, resourceIds: string[]): Promise<WorkspaceAgentRow[]> {
  if (resourceIds.length === 0) return [];
  const { rows } = await db.query<WorkspaceAgentRow>('SELECT * FROM workspace_agents WHERE resource_id = ANY($1::uuid[]) ORDER BY ordinal, name', [resourceIds]);
  return rows;
}

export async function getAppsByAgentIDs(db: Queryable, agentIds: string[]): Promise<WorkspaceAppRow[]> {
  if (agentIds.length === 0) return [];
  const { rows } = await db.query<WorkspaceAppRow>('SELECT * FROM workspace_apps WHERE agent_id = ANY($1::uuid[]) ORDER BY ordinal, slug', [agentIds]);
  return rows;
}
