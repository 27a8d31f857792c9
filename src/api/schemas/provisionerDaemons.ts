import { arr, obj, str, stringMap, time, uuid } from './common.js';

export const provisionerDaemonSchema = obj(
  {
    id: uuid,
    created_at: time,
    updated_at: time,
    last_seen_at: time,
    name: str,
    provisioners: arr(str),
    tags: stringMap,
    current_job_id: uuid,
  },
  ['id', 'created_at', 'name', 'provisioners', 'tags'],
);
