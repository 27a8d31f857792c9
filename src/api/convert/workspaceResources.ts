import { createHash } from 'node:crypto';

import type { WorkspaceAgentRow, WorkspaceAppRow, WorkspaceResourceMetadataRow, WorkspaceResourceRow } from '../../db/queries/workspaceResources.js';
import { appSubdomainName } from '../../sdk/apps.js';
import type {
  DisplayApp,
  WorkspaceAgent,
  WorkspaceAgentHealth,
  WorkspaceAgentLifecycle,
  WorkspaceAgentLogSource,
  WorkspaceAgentScript,
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

/**
 * The first moment (ms since the epoch) `agentStatus` may answer differently than it does at `now` without the row
 * changing: when a connecting agent times out, or a connected one goes quiet too long. Infinity: never.
 */
export function agentStatusChangesAt(a: AgentTimes, now: Date, inactiveMs: number): number {
  const t = now.getTime();
  if (!a.first_connected_at) {
    const timeoutAt = a.created_at.getTime() + a.connection_timeout_seconds * 1000;
    return a.connection_timeout_seconds > 0 && t <= timeoutAt ? timeoutAt : Infinity;
  }
  const last = (a.last_connected_at ?? a.first_connected_at).getTime();
  if (a.disconnected_at && a.disconnected_at.getTime() > last) return Infinity;
  return t - last > inactiveMs ? Infinity : last + inactiveMs;
}

export function convertApp(a: WorkspaceAppRow): WorkspaceApp {
  return {
    id: a.id,
    slug: a.slug,
    display_name: a.display_name,
    command: a.command || undefined,
    url: a.url ?? '',
    icon: a.icon || undefined,
    subdomain: a.subdomain,
    external: a.external,
    sharing_level: a.sharing_level,
    healthcheck: { url: a.healthcheck_url, interval: a.healthcheck_interval, threshold: a.healthcheck_threshold },
    health: a.health,
    hidden: false,
    open_in: 'slim-window',
    statuses: [],
  };
}

/**
 * Coder's agent health, first match wins: an agent that is not connected is unhealthy for its connection's reason
 * (or "not running" once it is off); a connected one is unhealthy while its startup script failed or it shuts down.
 * A startup script that timed out is, as in Coder, not unhealthy.
 */
export function agentHealth(status: WorkspaceAgentStatus, lifecycle: WorkspaceAgentLifecycle): WorkspaceAgentHealth {
  const unhealthy = (reason: string): WorkspaceAgentHealth => ({ healthy: false, reason });
  if (status !== 'connected' && lifecycle === 'off') return unhealthy('agent is not running');
  if (status === 'connecting') return unhealthy('agent has not yet connected');
  if (status === 'timeout') return unhealthy('agent is taking too long to connect');
  if (status === 'disconnected') return unhealthy('agent has lost connection');
  if (lifecycle === 'start_error') return unhealthy('agent startup script exited with an error');
  if (lifecycle === 'shutting_down' || lifecycle === 'shutdown_timeout' || lifecycle === 'shutdown_error' || lifecycle === 'off') {
    return unhealthy('agent is shutting down');
  }
  return { healthy: true };
}

/** Coder's defaults when a template does not configure `display_apps` (VS Code Insiders is opt-in). */
export const DEFAULT_DISPLAY_APPS: DisplayApp[] = ['vscode', 'web_terminal', 'ssh_helper', 'port_forwarding_helper'];

/**
 * A stable id derived from the agent's: kiln stores an agent's startup and shutdown scripts on the agent row, not as
 * script rows with ids of their own, so their ids (and their log sources') are derived, the same on every read.
 */
export function derivedId(agentId: string, what: string): string {
  const h = createHash('sha256').update(`${agentId}/${what}`).digest('hex');
  // Shaped as a version-8 (custom) UUID with the RFC 4122 variant.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const NS_PER_S = 1_000_000_000;

/** The agent's scripts and their log sources, in Coder's shape. */
export function agentScripts(a: WorkspaceAgentRow): { log_sources: WorkspaceAgentLogSource[]; scripts: WorkspaceAgentScript[] } {
  const log_sources: WorkspaceAgentLogSource[] = [];
  const scripts: WorkspaceAgentScript[] = [];
  const add = (what: 'startup' | 'shutdown', script: string, displayName: string, timeoutS: number) => {
    const sourceId = derivedId(a.id, `${what}-log-source`);
    log_sources.push({ workspace_agent_id: a.id, id: sourceId, created_at: rfc3339(a.created_at), display_name: displayName, icon: '' });
    scripts.push({
      id: derivedId(a.id, `${what}-script`),
      log_source_id: sourceId,
      log_path: '',
      script,
      cron: '',
      run_on_start: what === 'startup',
      run_on_stop: what === 'shutdown',
      start_blocks_login: false,
      timeout: timeoutS * NS_PER_S,
      display_name: displayName,
    });
  };
  if (a.startup_script) add('startup', a.startup_script, 'Startup Script', a.startup_script_timeout_seconds);
  if (a.shutdown_script) add('shutdown', a.shutdown_script, 'Shutdown Script', 0);
  return { log_sources, scripts };
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
    logs_length: a.startup_logs_length,
    logs_overflowed: a.startup_logs_overflowed,
    parent_id: null,
    api_version: '',
    subsystems: [],
    health: agentHealth(status, a.lifecycle_state as WorkspaceAgentLifecycle),
    display_apps: [...DEFAULT_DISPLAY_APPS],
    ...agentScripts(a),
    // kiln agents never hold back logins while the startup script runs.
    startup_script_behavior: 'non-blocking',
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
