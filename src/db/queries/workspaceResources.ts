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
  startup_logs_length: number;
  startup_logs_overflowed: boolean;
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

// --- Write side: a completing job inserts what its provisioner reported (src/jobs/resources.ts), in one transaction.

export async function insertWorkspaceResource(
  db: Queryable,
  p: { id: string; now: Date; jobId: string; transition: 'start' | 'stop' | 'delete'; type: string; name: string; hide: boolean; icon: string; instanceType: string | null; dailyCost: number; ordinal: number },
): Promise<void> {
  await db.query(
    `INSERT INTO workspace_resources (id, created_at, job_id, transition, type, name, hide, icon, instance_type, daily_cost, ordinal)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [p.id, p.now, p.jobId, p.transition, p.type, p.name, p.hide, p.icon, p.instanceType, p.dailyCost, p.ordinal],
  );
}

/** All metadata of one resource in one statement; the bigserial id keeps the provisioner's order. */
export async function insertWorkspaceResourceMetadata(db: Queryable, resourceId: string, items: { key: string; value: string | null; sensitive: boolean }[]): Promise<void> {
  if (items.length === 0) return;
  await db.query(
    `INSERT INTO workspace_resource_metadata (workspace_resource_id, key, value, sensitive)
     SELECT $1, t.key, t.value, t.sensitive
     FROM unnest($2::text[], $3::text[], $4::boolean[]) WITH ORDINALITY AS t(key, value, sensitive, ord)
     ORDER BY t.ord`,
    [resourceId, items.map((i) => i.key), items.map((i) => i.value), items.map((i) => i.sensitive)],
  );
}

export interface InsertWorkspaceAgentParams {
  id: string;
  now: Date;
  resourceId: string;
  name: string;
  authToken: string;
  authInstanceId: string | null;
  architecture: string;
  operatingSystem: string;
  environmentVariables: Record<string, string>;
  startupScript: string | null;
  startupScriptTimeoutSeconds: number;
  shutdownScript: string | null;
  directory: string;
  connectionTimeoutSeconds: number;
  troubleshootingUrl: string;
  ordinal: number;
}

export async function insertWorkspaceAgent(db: Queryable, p: InsertWorkspaceAgentParams): Promise<void> {
  await db.query(
    `INSERT INTO workspace_agents (id, created_at, updated_at, name, resource_id, auth_token, auth_instance_id, architecture,
       operating_system, environment_variables, startup_script, startup_script_timeout_seconds, shutdown_script, directory,
       connection_timeout_seconds, troubleshooting_url, ordinal)
     VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      p.id, p.now, p.name, p.resourceId, p.authToken, p.authInstanceId, p.architecture, p.operatingSystem,
      JSON.stringify(p.environmentVariables), p.startupScript, p.startupScriptTimeoutSeconds, p.shutdownScript, p.directory,
      p.connectionTimeoutSeconds, p.troubleshootingUrl, p.ordinal,
    ],
  );
}

export interface InsertWorkspaceAppParams {
  id: string;
  now: Date;
  agentId: string;
  slug: string;
  displayName: string;
  icon: string;
  command: string | null;
  url: string | null;
  healthcheckUrl: string;
  healthcheckInterval: number;
  healthcheckThreshold: number;
  health: WorkspaceAppRow['health'];
  subdomain: boolean;
  sharingLevel: WorkspaceAppRow['sharing_level'];
  external: boolean;
  ordinal: number;
}

export async function insertWorkspaceApp(db: Queryable, p: InsertWorkspaceAppParams): Promise<void> {
  await db.query(
    `INSERT INTO workspace_apps (id, created_at, agent_id, slug, display_name, icon, command, url, healthcheck_url,
       healthcheck_interval, healthcheck_threshold, health, subdomain, sharing_level, external, ordinal)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      p.id, p.now, p.agentId, p.slug, p.displayName, p.icon, p.command, p.url, p.healthcheckUrl,
      p.healthcheckInterval, p.healthcheckThreshold, p.health, p.subdomain, p.sharingLevel, p.external, p.ordinal,
    ],
  );
}
