import { Int, LIMITS, Obj, Req, Str, StringMap, Time, Type, Uuid, type Static } from './wire.js';

/** Coder's provisioner key: a credential external daemons connect with; they take the key's tags. */
export const ProvisionerKey = Obj({
  id: Uuid(),
  created_at: Time(),
  /** The organization's id (Coder's field name). */
  organization: Uuid(),
  name: Str(),
  tags: StringMap(),
});
export type ProvisionerKey = Static<typeof ProvisionerKey>;

export const CreateProvisionerKeyRequest = Req({
  name: Str(LIMITS.name),
  tags: Type.Optional(
    Type.Unsafe<Record<string, string> | null>({ type: ['object', 'null'], additionalProperties: { type: 'string', maxLength: LIMITS.short }, maxProperties: LIMITS.entries }),
  ),
});
export type CreateProvisionerKeyRequest = Static<typeof CreateProvisionerKeyRequest>;

/** The secret, shown once: only its hash is stored. */
export interface CreateProvisionerKeyResponse {
  key: string;
}

/** Coder's `Replica` (GET /api/v2/replicas), plus kiln's `started_at`, `updated_at` and `version`. */
export const Replica = Obj({
  id: Uuid(),
  hostname: Str(),
  created_at: Time(),
  started_at: Time(),
  updated_at: Time(),
  relay_address: Str(),
  region_id: Int(),
  error: Str(),
  database_latency: Int(),
  version: Str(),
});
export type Replica = Static<typeof Replica>;
