import { ProvisionerJobStatus } from './provisionerJobs.js';
import { Arr, Nullable, Obj, Opt, Str, StringEnum, StringMap, Time, Type, Uuid, type Static } from './wire.js';

/** Coder main's daemon status: `offline` when not seen for the stale interval, else `busy` while running a job. */
export const ProvisionerDaemonStatus = StringEnum(['offline', 'idle', 'busy']);
export type ProvisionerDaemonStatus = Static<typeof ProvisionerDaemonStatus>;

/** A job as a daemon row shows it (Coder's `ProvisionerDaemonJob`); null when there is none. */
export const ProvisionerDaemonJob = Obj({ id: Uuid(), status: ProvisionerJobStatus, template_name: Str(), template_icon: Str(), template_display_name: Str() });
export type ProvisionerDaemonJob = Static<typeof ProvisionerDaemonJob>;
const DaemonJobOrNull = Type.Unsafe<ProvisionerDaemonJob | null>({ ...Object.fromEntries(Object.entries(ProvisionerDaemonJob)), type: ['object', 'null'] });

/** Coder main's `ProvisionerDaemon`, plus kiln's `updated_at` and `current_job_id`. */
export const ProvisionerDaemon = Obj({
  id: Uuid(),
  /** The zero UUID for built-in daemons, which serve every organization. */
  organization_id: Uuid(),
  /** Coder's pseudo-keys for daemons without one: built-in, psk, user-auth. */
  key_id: Uuid(),
  created_at: Time(),
  updated_at: Opt(Time()),
  last_seen_at: Opt(Time()),
  name: Str(),
  version: Str(),
  api_version: Str(),
  provisioners: Arr(Str()),
  tags: StringMap(),
  key_name: Nullable(Str()),
  status: Type.Unsafe<ProvisionerDaemonStatus | null>({ type: ['string', 'null'], enum: ['offline', 'idle', 'busy', null] }),
  current_job: DaemonJobOrNull,
  previous_job: DaemonJobOrNull,
  /** The job it is running now, if any (kiln's older field; same as `current_job.id`). */
  current_job_id: Opt(Uuid()),
});
export type ProvisionerDaemon = Static<typeof ProvisionerDaemon>;

export interface ProvisionerDaemonsQuery {
  /** JSON object: daemons carrying all of these tags. */
  tags?: string;
  /** Comma-separated statuses. */
  status?: string;
  limit?: number;
}
