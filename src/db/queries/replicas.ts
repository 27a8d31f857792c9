import type { Queryable } from '../pool.js';

export interface ReplicaRow {
  id: string;
  created_at: Date;
  started_at: Date;
  updated_at: Date;
  stopped_at: Date | null;
  hostname: string;
  region_id: number;
  relay_address: string;
  version: string;
  error: string;
  database_latency: number;
}

export async function insertReplica(db: Queryable, p: { id: string; now: Date; hostname: string; regionId: number; relayAddress: string; version: string }): Promise<ReplicaRow> {
  const { rows } = await db.query<ReplicaRow>(
    `INSERT INTO replicas (id, created_at, started_at, updated_at, hostname, region_id, relay_address, version)
     VALUES ($1, $2, $2, $2, $3, $4, $5, $6) RETURNING *`,
    [p.id, p.now, p.hostname, p.regionId, p.relayAddress, p.version],
  );
  return rows[0] as ReplicaRow;
}

/** The heartbeat. Re-creates the row when a peer forgot it (this replica was partitioned longer than the cut-off). */
export async function touchReplica(db: Queryable, p: { id: string; now: Date; latencyUs: number; error: string; hostname: string; regionId: number; relayAddress: string; version: string }): Promise<void> {
  await db.query(
    `INSERT INTO replicas (id, created_at, started_at, updated_at, hostname, region_id, relay_address, version, database_latency, error)
     VALUES ($1, $2, $2, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET updated_at = $2, database_latency = $7, error = $8`,
    [p.id, p.now, p.hostname, p.regionId, p.relayAddress, p.version, p.latencyUs, p.error],
  );
}

export async function deleteReplica(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM replicas WHERE id = $1', [id]);
}

/** Forgets replicas that stopped refreshing their row before `before` (killed, or their host died). */
export async function deleteReplicasUpdatedBefore(db: Queryable, before: Date): Promise<number> {
  const r = await db.query('DELETE FROM replicas WHERE updated_at < $1', [before]);
  return r.rowCount ?? 0;
}

export async function getReplicasUpdatedAfter(db: Queryable, after: Date): Promise<ReplicaRow[]> {
  const { rows } = await db.query<ReplicaRow>('SELECT * FROM replicas WHERE stopped_at IS NULL AND updated_at > $1 ORDER BY started_at, id', [after]);
  return rows;
}
