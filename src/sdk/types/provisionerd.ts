/**
 * The protocol between the server and a provisioner daemon (Coder's provisionerd dRPC service, as plain types).
 *
 * Terminology.
 * - acquire: the daemon asks for the next job it can run; the server hands each job to exactly one daemon.
 * - update: the daemon's heartbeat, carrying a batch of log lines; the reply says whether the job was canceled.
 * - complete / fail: the daemon's final report, with the provisioner's new state (and, on success, its resources).
 *
 * Built-in daemons use an in-process implementation of `ProvisionerDaemonClient`; external daemons will use an HTTP one.
 * Byte fields are `Uint8Array` here; a network transport encodes them as base64.
 */
import type { LogLevel, LogSource } from './provisionerJobs.js';
import type { WorkspaceAppSharingLevel, WorkspaceTransition } from './workspaceBuilds.js';

/** A legacy parameter value, resolved by the server across scopes (import job < template < workspace). */
export interface ParameterValue {
  name: string;
  value: string;
  destination_scheme: 'environment_variable' | 'provisioner_variable';
}

/** What a provisioner may want to know about the build it runs (Coder's `Provision.Metadata`). */
export interface ProvisionMetadata {
  access_url: string;
  workspace_transition: WorkspaceTransition;
  workspace_name: string;
  workspace_owner: string;
  workspace_owner_email: string;
  workspace_id: string;
  workspace_owner_id: string;
  template_name: string;
  template_version: string;
  template_id?: string;
  workspace_build_id?: string;
}

export interface AcquiredWorkspaceBuild {
  workspace_build_id: string;
  workspace_name: string;
  transition: WorkspaceTransition;
  /** The build's provisioner state: the previous build's, copied when this build was created. */
  state: Uint8Array;
  parameter_values: ParameterValue[];
  /** The build's rich parameter values: the full resolved set stored with the build. */
  rich_parameter_values?: { name: string; value: string }[];
  /** The template version's variable values (Terraform `variable`s). */
  variable_values?: VariableValueWithSensitivity[];
  /** Delete without running the provisioner: resources are left in place. */
  orphan: boolean;
  /** Plan only: report the resources the transition would leave; change nothing, keep the state. */
  dry_run: boolean;
  metadata: ProvisionMetadata;
}

export interface AcquiredTemplateImport {
  template_version_id: string;
  template_version_name: string;
  parameter_values: ParameterValue[];
  /** The values the version was created with (`user_variable_values`, or the previous version's). */
  variable_values?: VariableValueWithSensitivity[];
  metadata: Pick<ProvisionMetadata, 'access_url' | 'template_name' | 'template_version' | 'template_id'>;
}

export interface VariableValueWithSensitivity {
  name: string;
  value: string;
  sensitive: boolean;
}

/** A rich parameter as an import declares it (Coder's TemplateVersionParameter fields; absent default = required). */
export interface DeclaredRichParameter {
  name: string;
  display_name?: string;
  description?: string;
  type?: string;
  form_type?: string;
  mutable?: boolean;
  default_value?: string | null;
  icon?: string;
  options?: { name: string; value: string; description?: string; icon?: string }[];
  validation_regex?: string;
  validation_error?: string;
  validation_min?: number | null;
  validation_max?: number | null;
  validation_monotonic?: string;
  ephemeral?: boolean;
  order?: number;
}

/** A template variable as an import declares it. */
export interface DeclaredVariable {
  name: string;
  description?: string;
  type?: string;
  default_value?: string | null;
  required?: boolean;
  sensitive?: boolean;
}

/** A template version dry run: a plan of the `start` of a workspace that does not exist. */
export interface AcquiredTemplateDryRun {
  template_version_id: string;
  parameter_values: ParameterValue[];
  metadata: ProvisionMetadata;
}

export type AcquiredJobType = 'workspace_build' | 'template_version_import' | 'template_version_dry_run';

export interface AcquiredJob {
  job_id: string;
  /** Unix milliseconds. */
  created_at: number;
  provisioner: string;
  /** The initiator's username. */
  user_name: string;
  /** The template archive's file id: a network daemon fetches (and caches) the archive by it. */
  file_id?: string;
  type: AcquiredJobType;
  /** The template version's source archive (a tar). */
  template_source_archive: Uint8Array;
  workspace_build?: AcquiredWorkspaceBuild;
  template_import?: AcquiredTemplateImport;
  template_dry_run?: AcquiredTemplateDryRun;
}

export interface JobLog {
  /** The daemon's clock, unix milliseconds. */
  created_at: number;
  source: LogSource;
  level: LogLevel;
  stage: string;
  output: string;
  /**
   * Network daemons number each job's lines from 1; the server stores a line once however often it is re-sent (a
   * reply lost in a disconnect). Built-in daemons leave it out.
   */
  seq?: number;
}

export interface UpdateJobRequest {
  job_id: string;
  /** May be empty: an update without logs is a heartbeat. */
  logs: JobLog[];
}

export interface UpdateJobResponse {
  /** The job's cancel flag is set: stop the provisioner and fail the job. */
  canceled: boolean;
}

export interface ProvisionedApp {
  slug: string;
  display_name?: string;
  command?: string;
  url?: string;
  icon?: string;
  subdomain?: boolean;
  external?: boolean;
  sharing_level?: WorkspaceAppSharingLevel;
  /** Interval in seconds; threshold in consecutive failures. */
  healthcheck?: { url?: string; interval?: number; threshold?: number };
}

export interface ProvisionedAgent {
  name: string;
  /** A UUID the template chose (the agent already has it); the server generates one when absent. */
  auth_token?: string;
  auth_instance_id?: string;
  architecture?: string;
  operating_system?: string;
  directory?: string;
  startup_script?: string;
  startup_script_timeout_seconds?: number;
  shutdown_script?: string;
  environment_variables?: Record<string, string>;
  connection_timeout_seconds?: number;
  troubleshooting_url?: string;
  apps?: ProvisionedApp[];
}

export interface ProvisionedResourceMetadata {
  key: string;
  value?: string | null;
  sensitive?: boolean;
}

/** A resource as a provisioner reports it; the server validates it and stores it with fresh ids. */
export interface ProvisionedResource {
  name: string;
  type: string;
  hide?: boolean;
  icon?: string;
  instance_type?: string;
  daily_cost?: number;
  metadata?: ProvisionedResourceMetadata[];
  agents?: ProvisionedAgent[];
}

export interface CompleteJobRequest {
  job_id: string;
  workspace_build?: { state: Uint8Array; resources: ProvisionedResource[] };
  template_import?: {
    start_resources: ProvisionedResource[];
    stop_resources?: ProvisionedResource[];
    rich_parameters?: DeclaredRichParameter[];
    variables?: DeclaredVariable[];
  };
  template_dry_run?: { resources: ProvisionedResource[] };
  /**
   * The job's last lines, not sent by an update of their own: stored before the completion, with it. Only from a client
   * whose server takes them (`completeCarriesLogs`); numbered (`seq`), so a completion sent again stores them once.
   */
  logs?: JobLog[];
}

export interface FailJobRequest {
  job_id: string;
  /** Never empty: an empty error would make a failed job read as succeeded. */
  error: string;
  /** When the provisioner reported a state, it replaces the build's (a partial apply keeps what it made). */
  workspace_build?: { state?: Uint8Array };
}

/** Why the server refused a daemon's request about a job. */
export type ProvisionerdErrorCode = 'not_found' | 'not_running' | 'not_owner' | 'already_completed';

export class ProvisionerdError extends Error {
  constructor(
    readonly code: ProvisionerdErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProvisionerdError';
  }
}

export function isProvisionerdError(e: unknown): e is ProvisionerdError {
  return e instanceof ProvisionerdError;
}

/** Everything a daemon needs from the server. The daemon depends on this interface only. */
export interface ProvisionerDaemonClient {
  /**
   * How many updates of one job may be on their way at once (default 1). More than one only for a client whose
   * server runs them in the order they were sent: the built-in daemons' (src/jobs/update.ts).
   */
  readonly updatesInFlight?: number;
  /**
   * The server stores a completion's last lines with it (`CompleteJobRequest.logs`): the built-in daemons' does, and a
   * no-op build is then one statement and one commit fewer. Others send every line by `updateJob`.
   */
  readonly completeCarriesLogs?: boolean;
  /** Long-poll: resolves with the next job, or null once `signal` aborts (or the server asks to come back later). */
  acquireJob(signal: AbortSignal): Promise<AcquiredJob | null>;
  /** Heartbeat plus logs. Throws `ProvisionerdError` when the job is no longer this daemon's to run. */
  updateJob(req: UpdateJobRequest): Promise<UpdateJobResponse>;
  completeJob(req: CompleteJobRequest): Promise<void>;
  failJob(req: FailJobRequest): Promise<void>;
  /**
   * Optional push of cancel requests so a daemon reacts before its next heartbeat. Only a hint: the daemon still
   * learns the truth from `updateJob`.
   */
  onCancelRequested?(jobId: string, cb: () => void): () => void;
  /**
   * A client that may take the daemon's next job with a completion (the built-in daemons', src/jobs/complete.ts) holds
   * it for the next `acquireJob`. The daemon calls this when it stops asking: a job held is given back to the queue.
   */
  returnHeldJob?(): Promise<void>;
}
