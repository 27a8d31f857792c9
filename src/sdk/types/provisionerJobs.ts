/**
 * Terminology.
 * - provisioner job: one unit of work for a provisioner daemon (a template import or a workspace build).
 * - provisioner daemon: a process that acquires jobs, one at a time, and runs them with a provisioner plugin.
 * - provisioner: the plugin that does the work (echo, local, terraform).
 */
import { Bool, Int, Nullable, Obj, Opt, Str, StringEnum, StringMap, Time, Uuid, type Static } from './wire.js';

export const PROVISIONER_JOB_STATUSES = ['pending', 'running', 'succeeded', 'canceling', 'canceled', 'failed'] as const;
export const ProvisionerJobStatus = StringEnum(PROVISIONER_JOB_STATUSES);
export type ProvisionerJobStatus = Static<typeof ProvisionerJobStatus>;
export type ProvisionerType = 'echo' | 'local' | 'terraform';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export const LogLevel = StringEnum(LOG_LEVELS);
export type LogLevel = Static<typeof LogLevel>;
export const LogSource = StringEnum(['provisioner_daemon', 'provisioner']);
export type LogSource = Static<typeof LogSource>;

export const ProvisionerJobType = StringEnum(['template_version_import', 'workspace_build', 'template_version_dry_run']);
export type ProvisionerJobType = Static<typeof ProvisionerJobType>;

/** What the job works on (Coder's `ProvisionerJobInput`): a build's id, or a template version's. */
export const ProvisionerJobInput = Obj({ template_version_id: Opt(Uuid()), workspace_build_id: Opt(Uuid()), error: Opt(Str()) });
export type ProvisionerJobInput = Static<typeof ProvisionerJobInput>;

/** Names for display (Coder's `ProvisionerJobMetadata`); the template fields are `""` (and the zero UUID) for a
 * version that belongs to no template yet. */
export const ProvisionerJobMetadata = Obj({
  template_version_name: Str(),
  template_id: Uuid(),
  template_name: Str(),
  template_display_name: Str(),
  template_icon: Str(),
  workspace_id: Opt(Uuid()),
  workspace_name: Opt(Str()),
});
export type ProvisionerJobMetadata = Static<typeof ProvisionerJobMetadata>;

export const ProvisionerJob = Obj({
  id: Uuid(),
  created_at: Time(),
  started_at: Opt(Time()),
  completed_at: Opt(Time()),
  canceled_at: Opt(Time()),
  error: Opt(Str()),
  status: ProvisionerJobStatus,
  worker_id: Opt(Uuid()),
  file_id: Uuid(),
  tags: StringMap(),
  // Later-Coder fields. A pending job's position is 1-based, so it is never 0 while the job waits; 0 otherwise.
  queue_position: Int(),
  queue_size: Int(),
  logs_overflowed: Bool(),
  organization_id: Uuid(),
  initiator_id: Uuid(),
  input: ProvisionerJobInput,
  type: ProvisionerJobType,
  metadata: ProvisionerJobMetadata,
});
export type ProvisionerJob = Static<typeof ProvisionerJob>;

/**
 * How many provisioner daemons could run a job (later Coder's `matched_provisioners`): `count` registered daemons offer
 * its provisioner and tags, `available` of them were seen recently, `most_recently_seen` is the latest of their
 * heartbeats (null when none). Present on builds and template versions while their job is pending.
 */
export const MatchedProvisioners = Obj({ count: Int(), available: Int(), most_recently_seen: Nullable(Time()) });
export type MatchedProvisioners = Static<typeof MatchedProvisioners>;

export const ProvisionerJobLog = Obj({
  id: Int(),
  created_at: Time(),
  log_source: LogSource,
  log_level: LogLevel,
  stage: Str(),
  output: Str(),
});
export type ProvisionerJobLog = Static<typeof ProvisionerJobLog>;

export type { ProvisionerDaemon } from './provisionerDaemons.js';
