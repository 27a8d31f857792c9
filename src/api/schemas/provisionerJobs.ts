import { bool, int, obj, str, stringMap, time, uuid } from './common.js';

const jobStatusEnum = { type: 'string', enum: ['pending', 'running', 'succeeded', 'canceling', 'canceled', 'failed'] };

export const provisionerJobSchema = obj(
  {
    id: uuid,
    created_at: time,
    started_at: time,
    completed_at: time,
    canceled_at: time,
    error: str,
    status: jobStatusEnum,
    worker_id: uuid,
    file_id: uuid,
    tags: stringMap,
    queue_position: int,
    queue_size: int,
    logs_overflowed: bool,
  },
  ['id', 'created_at', 'status', 'file_id', 'tags'],
);

export const matchedProvisionersSchema = obj(
  { count: int, available: int, most_recently_seen: { type: ['string', 'null'], format: 'date-time' } },
  ['count', 'available', 'most_recently_seen'],
);

export const provisionerJobLogSchema = obj(
  {
    id: int,
    created_at: time,
    log_source: { type: 'string', enum: ['provisioner_daemon', 'provisioner'] },
    log_level: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error'] },
    stage: str,
    output: str,
  },
  ['id', 'created_at', 'log_source', 'log_level', 'stage', 'output'],
);
