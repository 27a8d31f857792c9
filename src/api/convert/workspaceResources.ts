import type { WorkspaceAgentRow, WorkspaceAppRow, WorkspaceResourceMetadataRow, WorkspaceResourceRow } from '../../db/queries/workspaceResources.js';
import { appSubdomainName } from '../../sdk/apps.js';
import type {
  WorkspaceAgent,
  WorkspaceAgentLifecycle,
  WorkspaceAgentStatus,
  WorkspaceApp,
  WorkspaceResource,
} from '../../sdk/types/workspaceBuilds.js';

import { optionalTime, rfc3339 } from './time.js';

type AgentTimes = Pick<WorkspaceAgentRow, 'first_connected_at' | 'last_connected_at' | 'disconnected_at' | 'created_at' | 'connection_timeout_seconds'>;

/**
 * An agent's connection status (reference §9.2), first match wins. `inactiveMs` is how long a connected agent may
 * go without refreshing `last_connected_at` before it counts as disconnected.
 */
export function agentStatus(a: AgentTimes, now: Date, inactiveMs: number): { status: WorkspaceAgentStatus; disconnectedAt: Date | null } {
  const t = now.getTime();
  if (!a.first_connected_at) {
    const timedOut = a.connection_timeout_seconds > 0 && t - a.created_at.getTime() > a.connection_timeout_seconds * 1000;
    return { status: timedOut ? 'timeout' : 'connecting', disconnectedAt: a.disconnected_at };
  }
  const last = a.last_connected_at ?? a.first_connected_at;
  if (a.disconnected_at && a.disconnected_at.getTime() > last.getTime()) return { status: 'disconnected', disconnectedAt: a.disconnected_at };
  if (t - last.getTime() > inactiveMs) return { status: 'disconnected', disconnectedAt: last };
  return { status: 'connected', disconnectedAt: a.disconnected_at };
}

export function convertApp(a: WorkspaceAppRow): WorkspaceApp {
  return {
    id: a.id,
    slug: a.slug,
    display_name: a.display_name,
    command: a.command || undefined,
    url: a.url || undefined,
    icon: a.icon || undefined,
    subdomain: a.subdomain,
    external: a.external,
    sharing_level: a.sharing_level,
    healthcheck: { url: a.healthcheck_url, interval: a.healthcheck_interval, threshold: a.healthcheck_threshold },
    health: a.health,
  };
}

export function convertAgent(a: WorkspaceAgentRow, apps: WorkspaceAppRow[], now: Date, inactiveMs: number): WorkspaceAgent {
  const { status, disconnectedAt } = agentStatus(a, now, inactiveMs);
  return {
    id: a.id,
    created_at: rfc3339(a.created_at),
    updated_at: rfc3339(a.updated_at),
    first_connected_at: optionalTime(a.first_connected_at),
    last_connected_at: optionalTime(a.last_connected_at),
    disconnected_at: optionalTime(disconnectedAt),
    status,
    lifecycle_state: a.lifecycle_state as WorkspaceAgentLifecycle,
    name: a.name,
    resource_id: a.resource_id,
    instance_id: a.auth_instance_id || undefined,
    architecture: a.architecture,
    operating_system: a.operating_system,
    environment_variables: a.environment_variables ?? {},
    startup_script: a.startup_script || undefined,
    startup_script_timeout_seconds: a.startup_script_timeout_seconds,
    shutdown_script: a.shutdown_script || undefined,
    directory: a.directory || undefined,
    version: a.version,
    apps: apps.map(convertApp),
    connection_timeout_seconds: a.connection_timeout_seconds,
    troubleshooting_url: a.troubleshooting_url,
    startup_logs_length: a.startup_logs_length,
    startup_logs_overflowed: a.startup_logs_overflowed,
  };
}

/**
 * Names every proxied app's host label (`subdomain_name`): apps are served on their own origin whether or not the
 * template marked them `subdomain`, since that origin is the only one that cannot reach the dashboard's session.
 */
export function withSubdomainNames(resources: WorkspaceResource[], workspace: string, owner: string): WorkspaceResource[] {
  return resources.map((r) => (r.agents ? { ...r, agents: r.agents.map((a) => nameAgentApps(a, workspace, owner)) } : r));
}

export function nameAgentApps(a: WorkspaceAgent, workspace: string, owner: string): WorkspaceAgent {
  return {
    ...a,
    apps: a.apps.map((app) => (app.url && !app.external ? { ...app, subdomain_name: appSubdomainName({ app: app.slug, agent: a.name, workspace, owner }) } : app)),
  };
}

export interface ResourceTree {
  resources: WorkspaceResourceRow[];
  metadata: WorkspaceResourceMetadataRow[];
  agents: WorkspaceAgentRow[];
  apps: WorkspaceAppRow[];
}

function groupBy<T, K>(items: T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/** Resources of many jobs at once, grouped by job id, each with its agents, apps and metadata. */
export function convertResourceTree(tree: ResourceTree, now: Date, inactiveMs: number): Map<string, WorkspaceResource[]> {
  const meta = groupBy(tree.metadata, (m) => m.workspace_resource_id);
  const apps = groupBy(tree.apps, (a) => a.agent_id);
  const agents = groupBy(tree.agents, (a) => a.resource_id);
  const out = new Map<string, WorkspaceResource[]>();
  for (const r of tree.resources) {
    const rAgents = (agents.get(r.id) ?? []).map((a) => convertAgent(a, apps.get(a.id) ?? [], now, inactiveMs));
    const rMeta = (meta.get(r.id) ?? []).map((m) => ({ key: m.key, value: m.value ?? '', sensitive: m.sensitive }));
    const wire: WorkspaceResource = {
      id: r.id,
      created_at: rfc3339(r.created_at),
      job_id: r.job_id,
      workspace_transition: r.transition,
      type: r.type,
      name: r.name,
      hide: r.hide,
      icon: r.icon,
      agents: rAgents.length ? rAgents : undefined,
      metadata: rMeta.length ? rMeta : undefined,
      daily_cost: r.daily_cost,
    };
    const list = out.get(r.job_id);
    if (list) list.push(wire);
    else out.set(r.job_id, [wire]);
  }
  return out;
}
