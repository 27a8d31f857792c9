import { randomUUID } from 'node:crypto';

import type { ProvisionerJobLogRow } from '../db/queries/provisionerJobs.js';

/**
 * Log lines this server inserted, handed to this server's followers straight from memory (the NOTIFY remains the
 * signal for other replicas, and for followers that cannot take a batch). `prevLastId` is the job's newest line id
 * before the batch, read under the job's row lock: a follower that has sent exactly up to it can send the batch
 * without a query, and be sure nothing of this job lies in between.
 */
export interface LocalLogBatch {
  jobId: string;
  prevLastId: number;
  rows: ProvisionerJobLogRow[];
}

type Listener = (batch: LocalLogBatch) => void;

/** Per server (keyed by its pubsub, which every server context has one of), per job. */
const feeds = new WeakMap<object, Map<string, Set<Listener>>>();

export function onLocalJobLogs(owner: object, jobId: string, listener: Listener): () => void {
  let byJob = feeds.get(owner);
  if (!byJob) feeds.set(owner, (byJob = new Map()));
  let set = byJob.get(jobId);
  if (!set) byJob.set(jobId, (set = new Set()));
  set.add(listener);
  const jobs = byJob;
  const listeners = set;
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && jobs.get(jobId) === listeners) jobs.delete(jobId);
  };
}

/** Whether this server has followers of the job's lines (so a batch's rows are built only for someone). */
export function hasLocalJobLogListeners(owner: object, jobId: string): boolean {
  return (feeds.get(owner)?.get(jobId)?.size ?? 0) > 0;
}

/** Called after the batch committed. Listeners run synchronously, so every follower gets its frames in one pass. */
export function emitLocalJobLogs(owner: object, batch: LocalLogBatch): void {
  const set = feeds.get(owner)?.get(batch.jobId);
  if (!set) return;
  for (const l of [...set]) {
    try {
      l(batch);
    } catch {
      // One follower's failure is its own.
    }
  }
}

const origins = new WeakMap<object, string>();

/**
 * This server's name in log notifications (`origin`): its own followers skip a notification it sent, since the same
 * lines reach them from memory (the notification can arrive before the insert's COMMIT reply does).
 */
export function localOrigin(owner: object): string {
  let id = origins.get(owner);
  if (!id) origins.set(owner, (id = randomUUID()));
  return id;
}
