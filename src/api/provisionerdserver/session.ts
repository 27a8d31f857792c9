import { randomUUID } from 'node:crypto';

import type { WebSocket } from 'ws';

import { inTx } from '../../db/pool.js';
import {
  getExternalProvisionerDaemonByNameForUpdate,
  getRunningJobIDsOfWorkers,
  insertExternalProvisionerDaemon,
  releaseDaemonInstance,
  updateExternalProvisionerDaemon,
  updateProvisionerDaemonsLastSeen,
  type ProvisionerDaemonRow,
} from '../../db/queries/provisionerDaemons.js';
import { workerRunsJobWithFile } from '../../db/queries/provisionerJobs.js';
import { releaseJob } from '../../jobs/acquire.js';
import { abortJob } from '../../jobs/complete.js';
import { coerceError } from '../../lib/errors.js';
import { isProvisionerdError, type AcquiredJob } from '../../sdk/types/provisionerd.js';
import {
  fromBase64,
  PROVISIONERD_API_VERSION,
  toBase64,
  type DaemonMessage,
  type RegisterRequest,
  type RegisterResult,
  type ServerMessage,
  type WireAcquiredJob,
  type WireErrorCode,
} from '../../sdk/types/provisionerdProtocol.js';
import type { ServerContext } from '../context.js';
import { ApiError } from '../http/errors.js';

import { effectiveTags, type DaemonAuth } from './auth.js';
import { fileBytes } from './fileBytes.js';
import { InProcessProvisionerdClient } from './client.js';
import { checkJobId, checkJobLogs, WireError } from './wireChecks.js';

/** Refresh a connected daemon's `last_seen_at` at most this often (it also proves the connection is alive). */
const LAST_SEEN_WRITE_MS = 5_000;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface SessionHooks {
  /** The connection ended: the registry forgets the session. */
  closed(s: DaemonSession): void;
}

/**
 * One external daemon's connection (docs/provisioner-protocol.md). The daemon's requests run through the same
 * in-process client the built-in daemons use, so queue semantics (NOTIFY-woken acquire, tags, ownership checks,
 * cancel push) are one implementation.
 */
export class DaemonSession {
  daemon: ProvisionerDaemonRow | undefined;
  #client: InProcessProvisionerdClient | undefined;
  readonly #acquires = new Map<number, AbortController>();
  readonly #cancelWatch = new Map<string, () => void>();
  #lastSeenWrite = 0;
  /** The last `last_seen_at` this session wrote: a newer one means the daemon reconnected elsewhere. */
  #lastSeenAt = new Date(0);
  #closed = false;
  #alive = true;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: ServerContext,
    private readonly socket: WebSocket,
    readonly auth: DaemonAuth,
    private readonly hooks: SessionHooks,
  ) {
    socket.on('message', (data) => this.#onMessage(String(data)));
    socket.on('close', () => this.#onClose());
    socket.on('error', () => {});
    socket.on('pong', () => {
      this.#alive = true;
      this.#touch();
    });
  }

  /** Called every ping interval: a daemon that did not answer the previous ping is gone (its host died, a partition). */
  ping(): void {
    if (!this.#alive) {
      this.ctx.logger.warn({ daemon: this.daemon?.name }, 'provisioner daemon stopped answering pings; dropping its connection');
      this.socket.terminate();
      return;
    }
    this.#alive = false;
    if (this.socket.readyState === this.socket.OPEN) this.socket.ping();
  }

  get keyId(): string | undefined {
    return this.auth.principal.kind === 'key' ? this.auth.principal.keyId : undefined;
  }

  /** Ends the connection with a code and a reason the daemon logs. */
  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(code, reason.slice(0, 120));
    else this.socket.terminate();
  }

  #onMessage(text: string): void {
    let msg: DaemonMessage;
    try {
      msg = JSON.parse(text) as DaemonMessage;
    } catch {
      this.close(1003, 'frames must be JSON');
      return;
    }
    this.#alive = true;
    this.#touch();
    if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number') {
      this.close(1003, 'every request needs a numeric id');
      return;
    }
    if (msg.type === 'acquire_cancel') {
      this.#acquires.get(msg.acquire_id)?.abort();
      this.#send({ type: 'result', id: msg.id, result: null });
      return;
    }
    // Registration is handled before anything else; the other requests may run side by side (an acquire waits long).
    const run = () => this.#handle(msg).then(
      (result) => this.#send({ type: 'result', id: msg.id, result: result ?? null }),
      (e: unknown) => this.#send({ type: 'error', id: msg.id, error: toWireError(e) }),
    );
    if (msg.type === 'register' || !this.daemon) this.#queue = this.#queue.then(run);
    else void this.#queue.then(run);
  }

  async #handle(msg: DaemonMessage): Promise<unknown> {
    if (msg.type === 'register') return this.#register(msg);
    const client = this.#client;
    if (!client) throw new WireError('bad_request', 'register first');
    switch (msg.type) {
      case 'acquire':
        return { job: await this.#acquire(client, msg.id) };
      case 'update':
        return client.updateJob({ job_id: checkJobId(msg.job_id), logs: checkJobLogs(msg.logs) });
      case 'complete':
        await client.completeJob({
          job_id: checkJobId(msg.job_id),
          workspace_build: msg.workspace_build ? { state: fromBase64(msg.workspace_build.state ?? ''), resources: msg.workspace_build.resources ?? [] } : undefined,
          template_import: msg.template_import,
        });
        this.#unwatch(msg.job_id);
        return null;
      case 'fail':
        await client.failJob({
          job_id: checkJobId(msg.job_id),
          error: String(msg.error ?? ''),
          workspace_build: msg.workspace_build ? { state: msg.workspace_build.state !== undefined ? fromBase64(msg.workspace_build.state) : undefined } : undefined,
        });
        this.#unwatch(msg.job_id);
        return null;
      case 'file':
        return this.#file(msg.file_id);
      default:
        throw new WireError('bad_request', `unknown request type "${(msg as { type?: string }).type}"`);
    }
  }

  async #register(msg: RegisterRequest): Promise<RegisterResult> {
    if (this.daemon) throw new WireError('bad_request', 'already registered');
    const major = String(msg.api_version ?? '').split('.')[0];
    if (major !== PROVISIONERD_API_VERSION.split('.')[0]) {
      throw new WireError('bad_request', `This server speaks provisioner protocol ${PROVISIONERD_API_VERSION}; the daemon speaks "${msg.api_version}".`);
    }
    if (typeof msg.name !== 'string' || !NAME_RE.test(msg.name)) throw new WireError('bad_request', 'name must be 1-64 letters, digits, ".", "_" or "-"');
    if (!Array.isArray(msg.provisioners) || msg.provisioners.length === 0) throw new WireError('bad_request', 'provisioners must list at least one provisioner');
    const instanceId = String(msg.instance_id ?? '');
    const tags = effectiveTags(this.auth.principal, stringMap(msg.tags));
    const { organization, principal } = this.auth;
    const now = this.ctx.clock.now();
    // A connected daemon is seen at least every ping interval; a name silent for longer than two is free again.
    const liveMs = 2 * this.ctx.options.daemonPingMs + LAST_SEEN_WRITE_MS;
    const row = await inTx(this.ctx.pool, async (tx) => {
      const existing = await getExternalProvisionerDaemonByNameForUpdate(tx, organization.id, msg.name);
      const p = {
        id: existing?.id ?? randomUUID(),
        name: msg.name,
        organizationId: organization.id,
        provisioners: msg.provisioners.map(String),
        tags,
        keyId: principal.kind === 'key' ? principal.keyId : null,
        version: String(msg.version ?? ''),
        apiVersion: String(msg.api_version),
        instanceId,
        auth: principal.kind === 'key' ? ('key' as const) : principal.kind === 'psk' ? ('psk' as const) : ('user-auth' as const),
        now,
      };
      if (!existing) return insertExternalProvisionerDaemon(tx, p);
      // Another process under the same name, alive a moment ago: two daemons must not share one identity (and jobs).
      if (existing.instance_id && existing.instance_id !== instanceId && now.getTime() - existing.last_seen_at.getTime() < liveMs) {
        throw new WireError('conflict', `A provisioner daemon named "${msg.name}" is already connected; give this one another --name.`);
      }
      return updateExternalProvisionerDaemon(tx, p);
    });
    this.daemon = row;
    this.#lastSeenAt = row.last_seen_at;
    this.#lastSeenWrite = Date.now();
    this.#client = new InProcessProvisionerdClient(
      this.ctx,
      { id: row.id, name: row.name, provisioners: row.provisioners, tags: row.tags, organizationId: organization.id },
      { pollMs: this.ctx.options.daemonPollMs },
    );
    // Jobs the server thinks this daemon runs but the daemon does not know: handed out, then lost with a connection.
    const running = new Set(Array.isArray(msg.running_job_ids) ? msg.running_job_ids.map(String) : []);
    for (const jobId of await getRunningJobIDsOfWorkers(this.ctx.pool, [row.id])) {
      if (running.has(jobId)) this.#watch(jobId);
      // Never started (no line reached us): back to the queue. Otherwise it is failed, with the reason.
      else if (!(await releaseJob(this.ctx, jobId, row.id))) {
        await abortJob(this.ctx, jobId, `The provisioner daemon "${row.name}" reconnected without this job: it was lost with its connection.`);
      }
    }
    this.ctx.logger.info({ daemon: row.name, daemon_id: row.id, auth: principal.kind, tags }, 'provisioner daemon connected');
    return { daemon_id: row.id, name: row.name, organization_id: organization.id, tags: row.tags, api_version: PROVISIONERD_API_VERSION };
  }

  async #acquire(client: InProcessProvisionerdClient, requestId: number): Promise<WireAcquiredJob | null> {
    const abort = new AbortController();
    this.#acquires.set(requestId, abort);
    if (this.#closed) abort.abort();
    let job: AcquiredJob | null;
    try {
      job = await client.acquireJob(abort.signal);
    } finally {
      this.#acquires.delete(requestId);
    }
    if (!job) return null;
    if (this.#closed || this.socket.readyState !== this.socket.OPEN) {
      // Nobody will receive it: back to the queue for another daemon, rather than a hang until the reaper.
      await releaseJob(this.ctx, job.job_id, client.daemon.id);
      return null;
    }
    this.#watch(job.job_id);
    const { template_source_archive: _archive, workspace_build: build, ...rest } = job;
    return {
      ...rest,
      file_id: job.file_id ?? '',
      workspace_build: build ? { ...build, state: toBase64(build.state) } : undefined,
    };
  }

  async #file(fileId: string): Promise<{ data: string }> {
    const daemon = this.daemon as ProvisionerDaemonRow;
    if (typeof fileId !== 'string' || !(await workerRunsJobWithFile(this.ctx.pool, daemon.id, fileId))) {
      throw new WireError('not_found', 'no job of this daemon uses that file');
    }
    const file = await fileBytes(this.ctx, fileId);
    if (!file) throw new WireError('not_found', `file ${fileId} not found`);
    return { data: file.toString('base64') };
  }

  /** Cancel requests for a job this daemon runs are pushed at once (any replica's cancel NOTIFY reaches here). */
  #watch(jobId: string): void {
    if (this.#cancelWatch.has(jobId) || !this.#client) return;
    this.#cancelWatch.set(jobId, this.#client.onCancelRequested(jobId, () => this.#send({ type: 'cancel', job_id: jobId })));
  }

  #unwatch(jobId: string): void {
    this.#cancelWatch.get(jobId)?.();
    this.#cancelWatch.delete(jobId);
  }

  #touch(): void {
    const id = this.daemon?.id;
    const now = Date.now();
    if (!id || now - this.#lastSeenWrite < LAST_SEEN_WRITE_MS) return;
    this.#lastSeenWrite = now;
    this.#lastSeenAt = this.ctx.clock.now();
    updateProvisionerDaemonsLastSeen(this.ctx.pool, [id], this.#lastSeenAt).catch((e: unknown) =>
      this.ctx.logger.warn({ err: coerceError(e).message }, 'could not refresh a provisioner daemon'),
    );
  }

  #send(m: ServerMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(m));
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const a of this.#acquires.values()) a.abort();
    for (const u of this.#cancelWatch.values()) u();
    this.#cancelWatch.clear();
    this.#client?.close();
    this.hooks.closed(this);
    // The name is free for the next process at once (a restarted daemon need not wait for the stale interval).
    if (this.daemon) {
      releaseDaemonInstance(this.ctx.pool, this.daemon.id, this.daemon.instance_id, this.#lastSeenAt).catch((e: unknown) =>
        this.ctx.logger.warn({ err: coerceError(e).message }, 'could not release a provisioner daemon name'),
      );
    }
    if (this.daemon) this.ctx.logger.info({ daemon: this.daemon.name }, 'provisioner daemon disconnected');
  }
}

function toWireError(e: unknown): { code: WireErrorCode; message: string } {
  if (e instanceof WireError) return { code: e.code, message: e.message };
  if (isProvisionerdError(e)) return { code: e.code, message: e.message };
  if (e instanceof ApiError) return { code: e.status === 403 ? 'unauthorized' : 'bad_request', message: e.message };
  return { code: 'internal', message: coerceError(e).message };
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}
