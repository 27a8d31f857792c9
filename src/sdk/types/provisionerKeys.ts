/** Coder's provisioner key: a credential external daemons connect with; they take the key's tags. */
export interface ProvisionerKey {
  id: string;
  created_at: string;
  /** The organization's id (Coder's field name). */
  organization: string;
  name: string;
  tags: Record<string, string>;
}

export interface CreateProvisionerKeyRequest {
  name: string;
  tags?: Record<string, string> | null;
}

/** The secret, shown once: only its hash is stored. */
export interface CreateProvisionerKeyResponse {
  key: string;
}

/** Coder's `Replica` (GET /api/v2/replicas), plus kiln's `started_at`, `updated_at` and `version`. */
export interface Replica {
  id: string;
  hostname: string;
  created_at: string;
  started_at: string;
  updated_at: string;
  relay_address: string;
  region_id: number;
  error: string;
  database_latency: number;
  version: string;
}
