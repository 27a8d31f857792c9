import type { WorkspaceAgentLifecycle, WorkspaceApp, WorkspaceAppHealth } from './workspaceBuilds.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** One line of an agent's startup log (reference §9.4). */
export interface WorkspaceAgentStartupLog {
  id: number;
  created_at: string;
  output: string;
  level: LogLevel;
}

export interface PatchStartupLogsRequest {
  logs: { created_at: string; output: string; level?: LogLevel }[];
}

/**
 * What an agent needs to run its workspace (`GET /workspaceagents/me/metadata`). Timeouts are Go durations in
 * nanoseconds, as in Coder's wire format; `*_seconds` twins are kiln's convenience.
 */
export interface WorkspaceAgentMetadata {
  agent_id: string;
  agent_name: string;
  workspace_id: string;
  apps: WorkspaceApp[];
  environment_variables: Record<string, string>;
  directory: string;
  startup_script: string;
  startup_script_timeout: number;
  startup_script_timeout_seconds: number;
  shutdown_script: string;
  shutdown_script_timeout: number;
  shutdown_script_timeout_seconds: number;
  motd_file: string;
}

export interface PostLifecycleRequest {
  state: WorkspaceAgentLifecycle;
}

export interface PostAppHealthsRequest {
  /** App id → health. */
  healths: Record<string, WorkspaceAppHealth>;
}

export interface PostVersionRequest {
  version: string;
}

export const LIFECYCLE_STATES: readonly WorkspaceAgentLifecycle[] = [
  'created',
  'starting',
  'start_timeout',
  'start_error',
  'ready',
  'shutting_down',
  'shutdown_timeout',
  'shutdown_error',
  'off',
];
