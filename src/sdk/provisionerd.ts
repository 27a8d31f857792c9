import {
  CLOSE_KEY_DELETED,
  fromBase64,
  PROVISIONER_KEY_HEADER,
  PROVISIONER_PSK_HEADER,
  PROVISIONERD_API_VERSION,
  toBase64,
  type AcquireResult,
  type FileResult,
  type RegisterResult,
  type ServerMessage,
  type WireAcquiredJob,
} from './types/provisionerdProtocol.js';
import {
  ProvisionerdError,
  type AcquiredJob,
  type CompleteJobRequest,
  type FailJobRequest,
  type JobLog,
  type ProvisionerDaemonClient,
  type ProvisionerdErrorCode,
  type UpdateJobRequest,
  type UpdateJobResponse,
} from './types/provisionerd.js';
import { SESSION_TOKEN_HEADER } from './http.js';

export interface ProvisionerdClientOptions {
  /** Server base URLs, tried in turn: a replica that goes away is replaced by the next one. */
  urls: string[];
  /** Organization id or name. */
  organization: string;
  /** Exactly one: a provisioner key, the server's pre-shared key, or a user's session token. */
  auth: { key?: string; psk?: string; token?: string };
  name: string;
  /** Random per process (see RegisterRequest.instance_id). */
  instanceId: string;
  version: string;
  provisioners: string[];
  tags: Record<string, string>;
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** The server refused this daemon for good (bad credentials, deleted key, name taken): stop the process. */
  onFatal?: (e: Error) => void;
  /** Reconnect backoff bounds (default 250 ms … 10 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** A connection silent this long (no ping, no frame) is dropped and re-made (default 35 s). */
  deadAfterMs?: number;
}

/** A request failed because the connection went away; it may be retried (it is not a ProvisionerdError). */
export class DisconnectedError extends Error {
  constructor(message = 'not connected to the server') {
    super(message);
    this.name = 'DisconnectedError';
  }
}

/** The server will not take this daemon back (401/403, a deleted key, a refused registration). */
export class DaemonRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DaemonRefusedError';
  }
}

interface Socket {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(ev: string, fn: (...args: never[]) => void): void;
}

interface Conn {
  ws: Socket;
  pending: Map<number, { resolve(v: unknown): void; reject(e: Error): void }>;
  registered: RegisterResult;
}

const PROVISIONERD_CODES = new Set<ProvisionerdErrorCode>(['not_found', 'not_running', 'not_owner', 'already_completed']);
/** An update is split so one frame stays far below the server's frame limit. */
const MAX_FRAME_BYTES = 512 * 1024;
const FILE_CACHE = 16;

/**
 * The network side of the provisioner protocol (docs/provisioner-protocol.md): one WebSocket per daemon, reconnected
 * with backoff across the URL list. Requests made while disconnected wait for the next connection. Log lines are
 * numbered per job, so a batch re-sent after a lost reply is stored once.
 */
export class NetworkProvisionerdClient implements ProvisionerDaemonClient {
  #conn: Conn | undefined;
  #waiters: { resolve(c: Conn): void; reject(e: Error): void }[] = [];
  #seq = 0;
  #urlIndex = 0;
  #closed = false;
  #fatal: Error | undefined;
  #started = false;
  readonly #running = new Set<string>();
  readonly #logSeq = new Map<string, number>();
  readonly #lineSeq = new WeakMap<JobLog, number>();
  readonly #cancelWatchers = new Map<string, Set<() => void>>();
  readonly #files = new Map<string, Uint8Array>();

  constructor(private readonly o: ProvisionerdClientOptions) {
    if (o.urls.length === 0) throw new Error('at least one server URL is needed');
  }

  /** Starts connecting (and keeps reconnecting until close). Resolves once the first registration succeeded. */
  connect(): Promise<RegisterResult> {
    if (!this.#started) {
      this.#started = true;
      void this.#connectLoop();
    }
    return this.#ready().then((c) => (c as Conn).registered);
  }

  get connectedUrl(): string | undefined {
    return this.#conn ? this.#currentUrl() : undefined;
  }

  async acquireJob(signal: AbortSignal): Promise<AcquiredJob | null> {
    if (signal.aborted) return null;
    const conn = await this.#ready(signal);
    if (!conn) return null;
    const id = ++this.#seq;
    const onAbort = () => this.#sendOn(conn, { type: 'acquire_cancel', id: ++this.#seq, acquire_id: id });
    signal.addEventListener('abort', onAbort, { once: true });
    let res: AcquireResult;
    try {
      res = (await this.#request(conn, id, { type: 'acquire', id })) as AcquireResult;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (!res?.job) return null;
    this.#running.add(res.job.job_id);
    try {
      return await this.#hydrate(res.job);
    } catch (e) {
      // The job is ours but its archive could not be fetched: report it failed rather than leave it to the reaper.
      await this.failJob({ job_id: res.job.job_id, error: `fetch template archive: ${(e as Error).message}` }).catch(() => {});
      throw e;
    }
  }

  async updateJob(req: UpdateJobRequest): Promise<UpdateJobResponse> {
    let next = this.#logSeq.get(req.job_id) ?? 0;
    const logs = req.logs.map((l) => {
      let seq = this.#lineSeq.get(l);
      if (seq === undefined) this.#lineSeq.set(l, (seq = ++next));
      return { ...l, seq };
    });
    this.#logSeq.set(req.job_id, next);
    let canceled = false;
    try {
      for (const chunk of chunks(logs)) {
        const r = (await this.#call({ type: 'update', job_id: req.job_id, logs: chunk })) as UpdateJobResponse;
        canceled ||= r.canceled;
      }
    } catch (e) {
      if (e instanceof ProvisionerdError) this.#forget(req.job_id);
      throw e;
    }
    return { canceled };
  }

  async completeJob(req: CompleteJobRequest): Promise<void> {
    await this.#final(req.job_id, {
      type: 'complete',
      job_id: req.job_id,
      workspace_build: req.workspace_build ? { state: toBase64(req.workspace_build.state), resources: req.workspace_build.resources } : undefined,
      template_import: req.template_import,
    });
  }

  async failJob(req: FailJobRequest): Promise<void> {
    const state = req.workspace_build?.state;
    await this.#final(req.job_id, {
      type: 'fail',
      job_id: req.job_id,
      error: req.error,
      workspace_build: req.workspace_build ? { state: state ? toBase64(state) : undefined } : undefined,
    });
  }

  onCancelRequested(jobId: string, cb: () => void): () => void {
    let set = this.#cancelWatchers.get(jobId);
    if (!set) this.#cancelWatchers.set(jobId, (set = new Set()));
    set.add(cb);
    return () => {
      set.delete(cb);
      if (set.size === 0) this.#cancelWatchers.delete(jobId);
    };
  }

  close(): void {
    this.#closed = true;
    this.#conn?.ws.close(1000, 'daemon stopping');
    this.#rejectWaiters(new DisconnectedError('the daemon is stopping'));
  }

  async #final(jobId: string, msg: Record<string, unknown>): Promise<void> {
    try {
      await this.#call(msg);
    } catch (e) {
      if (e instanceof ProvisionerdError) this.#forget(jobId);
      throw e;
    }
    this.#forget(jobId);
  }

  #forget(jobId: string): void {
    this.#running.delete(jobId);
    this.#logSeq.delete(jobId);
  }

  async #hydrate(job: WireAcquiredJob): Promise<AcquiredJob> {
    let archive = this.#files.get(job.file_id);
    if (!archive) {
      archive = fromBase64(((await this.#call({ type: 'file', file_id: job.file_id })) as FileResult).data);
      this.#files.set(job.file_id, archive);
      if (this.#files.size > FILE_CACHE) this.#files.delete(this.#files.keys().next().value as string);
    }
    const { workspace_build: build, ...rest } = job;
    return {
      ...rest,
      template_source_archive: archive,
      workspace_build: build ? { ...build, state: fromBase64(build.state) } : undefined,
    };
  }

  async #call(msg: Record<string, unknown>): Promise<unknown> {
    // Refused for good (its key deleted): the server already failed our jobs; say so, so nothing is retried.
    if (this.#fatal) throw new ProvisionerdError('not_owner', this.#fatal.message);
    const conn = await this.#ready();
    if (!conn) throw new DisconnectedError();
    const id = ++this.#seq;
    return this.#request(conn, id, { ...msg, id });
  }

  #request(conn: Conn, id: number, msg: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      conn.pending.set(id, { resolve, reject });
      if (!this.#sendOn(conn, msg)) {
        conn.pending.delete(id);
        reject(new DisconnectedError());
      }
    });
  }

  #sendOn(conn: Conn, msg: Record<string, unknown>): boolean {
    if (conn.ws.readyState !== 1) return false;
    conn.ws.send(JSON.stringify(msg));
    return true;
  }

  /** The current connection, or the next one; undefined when `signal` aborts first. */
  #ready(signal?: AbortSignal): Promise<Conn | undefined> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    if (this.#closed) return Promise.reject(new DisconnectedError('the daemon is stopping'));
    if (this.#conn) return Promise.resolve(this.#conn);
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (c: Conn) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(c);
        },
        reject,
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(w);
    });
  }

  #rejectWaiters(e: Error): void {
    for (const w of this.#waiters.splice(0)) w.reject(e);
  }

  #currentUrl(): string {
    return this.o.urls[this.#urlIndex % this.o.urls.length] as string;
  }

  async #connectLoop(): Promise<void> {
    const min = this.o.reconnectMinMs ?? 250;
    const max = this.o.reconnectMaxMs ?? 10_000;
    let attempt = 0;
    while (!this.#closed && !this.#fatal) {
      const url = this.#currentUrl();
      try {
        await this.#session(url);
        attempt = 0;
      } catch (e) {
        if (e instanceof DaemonRefusedError) {
          this.#fatal = e;
          this.#rejectWaiters(e);
          this.o.onFatal?.(e);
          return;
        }
        this.o.logger?.warn({ url, err: (e as Error).message }, 'provisioner daemon could not connect; trying again');
        attempt++;
      }
      if (this.#closed) return;
      // The next URL: a replica that went away is most likely still away.
      this.#urlIndex++;
      if (attempt > 0) {
        const delay = Math.min(max, min * 2 ** Math.min(attempt - 1, 16)) * (0.5 + Math.random() / 2);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** One connection, from open to close. Rejects when it could not be established; resolves when an open one ends. */
  async #session(url: string): Promise<void> {
    const { default: WS } = await import('ws');
    const target = new URL(`api/v2/organizations/${encodeURIComponent(this.o.organization)}/provisionerdaemons/serve`, url.endsWith('/') ? url : `${url}/`);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    const headers: Record<string, string> = {};
    if (this.o.auth.key) headers[PROVISIONER_KEY_HEADER] = this.o.auth.key;
    else if (this.o.auth.psk) headers[PROVISIONER_PSK_HEADER] = this.o.auth.psk;
    else if (this.o.auth.token) headers[SESSION_TOKEN_HEADER] = this.o.auth.token;
    const ws = new WS(target.href, { headers, handshakeTimeout: 10_000 }) as unknown as Socket;
    const pending: Conn['pending'] = new Map();
    let lastHeard = Date.now();
    let registered: Conn | undefined;

    const closed = new Promise<{ code: number; reason: string }>((resolve, reject) => {
      ws.on('unexpected-response', (_req: never, res: { statusCode?: number; on(ev: string, fn: (d: Buffer) => void): void }) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let message = `HTTP ${status}`;
          try {
            const env = JSON.parse(body) as { message?: string; detail?: string };
            message = [env.message, env.detail].filter(Boolean).join(' ');
          } catch {
            // not the envelope: a proxy answered
          }
          const e = status === 401 || status === 403 || status === 404 ? new DaemonRefusedError(`the server refused this daemon: ${message}`) : new Error(message);
          reject(e);
          ws.terminate();
        });
      });
      ws.on('error', (e: Error) => reject(e));
      ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    });
    closed.catch(() => {});
    ws.on('ping', () => (lastHeard = Date.now()));
    ws.on('message', (data: Buffer) => {
      lastHeard = Date.now();
      let m: ServerMessage;
      try {
        m = JSON.parse(data.toString()) as ServerMessage;
      } catch {
        return;
      }
      if (m.type === 'cancel') {
        for (const cb of [...(this.#cancelWatchers.get(m.job_id) ?? [])]) cb();
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.result);
      else if (PROVISIONERD_CODES.has(m.error.code as ProvisionerdErrorCode)) p.reject(new ProvisionerdError(m.error.code as ProvisionerdErrorCode, m.error.message));
      else if (!registered && (m.error.code === 'bad_request' || m.error.code === 'conflict' || m.error.code === 'unauthorized')) p.reject(new DaemonRefusedError(m.error.message));
      else p.reject(new Error(m.error.message));
    });
    const deadAfter = this.o.deadAfterMs ?? 35_000;
    const watchdog = setInterval(() => {
      if (Date.now() - lastHeard > deadAfter) {
        this.o.logger?.warn({ url }, 'no word from the server; reconnecting');
        ws.terminate();
      }
    }, Math.min(5_000, deadAfter / 2));
    watchdog.unref?.();

    try {
      await Promise.race([new Promise<void>((resolve) => ws.on('open', () => resolve())), closed.then(() => Promise.reject(new Error('closed before it opened')))]);
      const conn: Conn = { ws, pending, registered: undefined as unknown as RegisterResult };
      const id = ++this.#seq;
      const regMsg = {
        type: 'register',
        id,
        name: this.o.name,
        instance_id: this.o.instanceId,
        version: this.o.version,
        api_version: PROVISIONERD_API_VERSION,
        provisioners: this.o.provisioners,
        tags: this.o.tags,
        running_job_ids: [...this.#running],
      };
      conn.registered = (await Promise.race([this.#request(conn, id, regMsg), closed.then(() => Promise.reject(new Error('closed while registering')))])) as RegisterResult;
      registered = conn;
      this.#conn = conn;
      this.o.logger?.info({ url, daemon_id: conn.registered.daemon_id, tags: conn.registered.tags }, 'connected to the server');
      for (const w of this.#waiters.splice(0)) w.resolve(conn);
      // A cancel may have been pushed while we were away: have running jobs ask at once.
      for (const jobId of this.#running) for (const cb of [...(this.#cancelWatchers.get(jobId) ?? [])]) cb();
      const end = await closed.catch((e: Error) => ({ code: 1006, reason: e.message }));
      if (end.code === CLOSE_KEY_DELETED) throw new DaemonRefusedError(`the server disconnected this daemon: ${end.reason || 'its provisioner key was deleted'}`);
      if (!this.#closed) this.o.logger?.warn({ url, code: end.code, reason: end.reason }, 'disconnected from the server; reconnecting');
    } finally {
      clearInterval(watchdog);
      if (this.#conn === registered) this.#conn = undefined;
      const err = new DisconnectedError('the connection to the server was lost');
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (ws.readyState === 0 || ws.readyState === 1) ws.terminate();
    }
  }
}

function chunks<T>(items: T[]): T[][] {
  if (items.length === 0) return [items];
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const it of items) {
    const n = JSON.stringify(it).length;
    if (cur.length && size + n > MAX_FRAME_BYTES) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(it);
    size += n;
  }
  out.push(cur);
  return out;
}
