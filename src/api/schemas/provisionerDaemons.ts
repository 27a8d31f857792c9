import { arr, nullable, obj, str, stringMap, time, uuid } from './common.js';

const jobStatusEnum = { type: 'string', enum: ['pending', 'running', 'succeeded', 'canceling', 'canceled', 'failed'] };

const daemonJobSchema = { ...obj({ id: uuid, status: jobStatusEnum, template_name: str, template_icon: str, template_display_name: str }, ['id', 'status']), type: ['object', 'null'] };

export const provisionerDaemonSchema = obj(
  {
    id: uuid,
    organization_id: uuid,
    key_id: uuid,
    created_at: time,
    updated_at: time,
    last_seen_at: time,
    name: str,
    version: str,
    api_version: str,
    provisioners: arr(str),
    tags: stringMap,
    key_name: nullable(str),
    status: { type: ['string', 'null'], enum: ['offline', 'idle', 'busy', null] },
    current_job: daemonJobSchema,
    previous_job: daemonJobSchema,
    current_job_id: uuid,
  },
  ['id', 'created_at', 'name', 'provisioners', 'tags'],
);

export const provisionerKeySchema = obj(
  { id: uuid, created_at: time, organization: uuid, name: str, tags: stringMap },
  ['id', 'created_at', 'organization', 'name', 'tags'],
);

export const createProvisionerKeyBody = obj({ name: str, tags: { ...stringMap, type: ['object', 'null'] } }, ['name']);

export const replicaSchema = obj(
  {
    id: uuid,
    hostname: str,
    created_at: time,
    started_at: time,
    updated_at: time,
    relay_address: str,
    region_id: { type: 'integer' },
    error: str,
    database_latency: { type: 'integer' },
    version: str,
  },
  ['id', 'hostname', 'created_at', 'relay_address', 'region_id', 'error', 'database_latency'],
);

/** Coder's `MatchedProvisioners` on a template version: daemons able to take its import job's tags. */
export const matchedProvisionersSchema = obj({ count: { type: 'integer' }, available: { type: 'integer' }, most_recently_seen: time }, ['count', 'available']);
