/**
 * The contract between a provisioner daemon and a provisioner plugin (echo, local, terraform): one call per phase.
 * The daemon maps these shapes to the server protocol, a plugin never sees the server; the shapes both sides share
 * (parameter values, build metadata, log levels) are the SDK's, defined once.
 */
import type { LogLevel } from '../sdk/types/provisionerJobs.js';
import type { ParameterValue, ProvisionMetadata as DaemonProvisionMetadata } from '../sdk/types/provisionerd.js';

import type { ParameterDeclaration, VariableDeclaration } from './parameters.js';

/** `import` runs for a template version's import job; the others for a workspace build of that transition. */
export type Phase = 'import' | 'start' | 'stop' | 'delete';
export type { LogLevel };

/** The stage a phase's log lines belong to, unless a line names its own (these are the daemon's marker stages). */
export const PHASE_STAGE: Record<Phase, string> = {
  import: 'Parsing template parameters',
  start: 'Starting workspace',
  stop: 'Stopping workspace',
  delete: 'Destroying workspace',
};

/** A parameter value as the server resolved it: the same shape the daemon protocol carries. */
export type { ParameterValue };

/** What the plugin may know of the build; an import has no workspace, so those fields are absent then. */
export type ProvisionMetadata = Pick<DaemonProvisionMetadata, 'access_url' | 'template_name' | 'template_version'> & Partial<DaemonProvisionMetadata>;

/** A rich parameter value of a build: the full resolved set (request, then previous build, then default). */
export interface RichParameterValue {
  name: string;
  value: string;
}

/** A template variable's value (Terraform `variable`); sensitive ones must never be logged. */
export interface VariableValue {
  name: string;
  value: string;
  sensitive: boolean;
}

export interface ProvisionRequest {
  phase: Phase;
  /** The template's files, unpacked; the plugin may write scratch files here. Empty for an `inMemory` provisioner. */
  directory: string;
  /** The template's regular files by relative path, for an `inMemory` provisioner (which gets no directory). */
  files?: ReadonlyMap<string, Uint8Array>;
  /** The state the previous build left (empty for the first build and for imports). */
  state: Uint8Array;
  parameters: ParameterValue[];
  /** Rich parameter values of the build (empty for imports). */
  richParameters?: RichParameterValue[];
  /** Template variable values (imports and builds). */
  variables?: VariableValue[];
  metadata: ProvisionMetadata;
  /**
   * Plan only (a dry-run build or a template version dry run): report what would be created and change nothing; the
   * result's state is ignored.
   */
  dry_run?: boolean;
}

export interface ProvisionContext {
  /** Aborts when the job is canceled (or the daemon shuts down): stop promptly and return `error: 'canceled'`. */
  signal: AbortSignal;
  /** One line of output; `stage` defaults to the phase's stage. */
  log(level: LogLevel, output: string, stage?: string): void;
  /**
   * Resolves when the daemon can take more lines. A provisioner that can produce lines faster than they are sent (a
   * script replayed from memory) awaits it now and then, instead of having lines queued without bound or dropped.
   */
  room?(): Promise<void>;
}

export interface App {
  slug: string;
  display_name?: string;
  command?: string;
  url?: string;
  icon?: string;
  subdomain?: boolean;
  external?: boolean;
  sharing_level?: 'owner' | 'authenticated' | 'public';
  healthcheck?: { url?: string; interval?: number; threshold?: number };
}

export interface Agent {
  name: string;
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
  apps?: App[];
}

export interface Resource {
  name: string;
  type: string;
  hide?: boolean;
  icon?: string;
  instance_type?: string;
  daily_cost?: number;
  metadata?: { key: string; value?: string | null; sensitive?: boolean }[];
  agents?: Agent[];
}

export interface ProvisionResult {
  /** For an import, what the `start` transition creates. */
  resources: Resource[];
  /** For an import, what the `stop` transition leaves (Coder plans both); absent means none. */
  stop_resources?: Resource[];
  /** The new state; omitted means "no state" on success, and "keep the build's state" on failure. */
  state?: Uint8Array;
  /** Set when the phase failed; the daemon fails the job with it. */
  error?: string;
  /** Imports only: the rich parameters the template declares (see ./parameters.ts). */
  parameters?: ParameterDeclaration[];
  /** Imports only: the template variables the template declares. */
  variables?: VariableDeclaration[];
}

export interface Provisioner {
  provision(req: ProvisionRequest, ctx: ProvisionContext): Promise<ProvisionResult>;
  /**
   * The provisioner only reads the template's files and runs nothing from them: the daemon hands them over in memory
   * (`ProvisionRequest.files`) instead of unpacking them into a scratch directory and removing it afterwards.
   */
  readonly inMemory?: boolean;
}
