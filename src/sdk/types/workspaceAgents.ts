import { LIFECYCLE_STATES, WorkspaceApp, type WorkspaceAgentLifecycle, type WorkspaceAppHealth } from './workspaceBuilds.js';
import { LogLevel } from './provisionerJobs.js';
import { Arr, Int, LIMITS, Obj, Opt, Req, Str, StringMap, Time, Type, Uuid, type Static } from './wire.js';

export { LIFECYCLE_STATES, LogLevel };

/** One line of an agent's startup log (reference §9.4). */
export const WorkspaceAgentStartupLog = Obj({ id: Int(), created_at: Time(), output: Str(), level: LogLevel, source_id: Uuid() });
export type WorkspaceAgentStartupLog = Static<typeof WorkspaceAgentStartupLog>;

// Agent request bodies state size only: the handlers check content, with the messages Coder's agents expect.

// Everything is optional here so a missing field reaches the handler's own message.
export const PatchStartupLogsRequest = Req({
  logs: Opt(Arr(
    Req({
      created_at: Opt(Str(LIMITS.name)),
      output: Opt(Str(LIMITS.text)),
      level: Opt(Type.Unsafe<LogLevel>({ type: 'string', maxLength: LIMITS.name })),
    }),
    LIMITS.items,
  )),
});
export type PatchStartupLogsRequest = Static<typeof PatchStartupLogsRequest>;

/**
 * What an agent needs to run its workspace (`GET /workspaceagents/me/metadata`). Timeouts are Go durations in
 * nanoseconds, as in Coder's wire format; `*_seconds` twins are kiln's convenience.
 */
export const WorkspaceAgentMetadata = Obj({
  agent_id: Uuid(),
  agent_name: Str(),
  workspace_id: Uuid(),
  apps: Arr(WorkspaceApp),
  environment_variables: StringMap(),
  directory: Str(),
  startup_script: Str(),
  startup_script_timeout: Int(),
  startup_script_timeout_seconds: Int(),
  shutdown_script: Str(),
  shutdown_script_timeout: Int(),
  shutdown_script_timeout_seconds: Int(),
  motd_file: Str(),
});
export type WorkspaceAgentMetadata = Static<typeof WorkspaceAgentMetadata>;

export const PostLifecycleRequest = Req({ state: Opt(Type.Unsafe<WorkspaceAgentLifecycle>({ type: 'string', maxLength: LIMITS.name })) });
export type PostLifecycleRequest = Static<typeof PostLifecycleRequest>;

/** App id → health. */
export const PostAppHealthsRequest = Req({
  healths: Opt(Type.Unsafe<Record<string, WorkspaceAppHealth>>({ type: 'object', maxProperties: LIMITS.entries, additionalProperties: { type: 'string', maxLength: LIMITS.name } })),
});
export type PostAppHealthsRequest = Static<typeof PostAppHealthsRequest>;

export const PostVersionRequest = Req({ version: Opt(Str(LIMITS.name)) });
export type PostVersionRequest = Static<typeof PostVersionRequest>;
