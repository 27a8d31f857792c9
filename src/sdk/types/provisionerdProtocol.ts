/**
 * kiln's provisioner daemon protocol, version 1 (docs/provisioner-protocol.md): JSON text frames over one WebSocket at
 * `GET /api/v2/organizations/{org}/provisionerdaemons/serve`. The daemon sends requests carrying an `id`; the server
 * answers each with a `result` or an `error` frame of the same id, and pushes `cancel` frames on its own. Byte fields
 * (provisioner state, file contents) travel as base64.
 */
import type { ProvisionedResource, JobLog, ProvisionerdErrorCode, AcquiredJob } from './provisionerd.js';

/** `major.minor`: a server accepts any daemon of the same major version. */
export const PROVISIONERD_API_VERSION = '1.0';

/** Request headers of the WebSocket upgrade: one of these authenticates the daemon (or a user's session token). */
export const PROVISIONER_KEY_HEADER = 'Coder-Provisioner-Daemon-Key';
export const PROVISIONER_PSK_HEADER = 'Coder-Provisioner-Daemon-PSK';

/** WebSocket close codes the server uses; a daemon does not reconnect after the 44xx ones. */
export const CLOSE_KEY_DELETED = 4401;
export const CLOSE_REPLACED = 4409;
export const CLOSE_SERVER_SHUTDOWN = 4503;

export interface RegisterRequest {
  type: 'register';
  id: number;
  name: string;
  /** Random per daemon process: a reconnect keeps the daemon's identity (and its running jobs), a stranger may not. */
  instance_id: string;
  version: string;
  api_version: string;
  provisioners: string[];
  tags: Record<string, string>;
  /** Jobs this process is running now; any other job the server thinks it runs was lost and is failed. */
  running_job_ids: string[];
}

export interface RegisterResult {
  daemon_id: string;
  name: string;
  organization_id: string;
  /** The tags jobs are matched against (a key's tags, a user's scope). */
  tags: Record<string, string>;
  api_version: string;
}

export interface AcquireRequest {
  type: 'acquire';
  id: number;
}
/** Ends a waiting acquire: the server answers it with `{ job: null }` (unless a job was taken first). */
export interface AcquireCancelRequest {
  type: 'acquire_cancel';
  id: number;
  acquire_id: number;
}
export interface WireAcquiredJob extends Omit<AcquiredJob, 'template_source_archive' | 'workspace_build'> {
  file_id: string;
  workspace_build?: Omit<NonNullable<AcquiredJob['workspace_build']>, 'state'> & { state: string };
}
export interface AcquireResult {
  job: WireAcquiredJob | null;
}

export interface UpdateRequest {
  type: 'update';
  id: number;
  job_id: string;
  logs: JobLog[];
}
export interface UpdateResult {
  canceled: boolean;
}

export interface CompleteRequest {
  type: 'complete';
  id: number;
  job_id: string;
  workspace_build?: { state: string; resources: ProvisionedResource[] };
  template_import?: { start_resources: ProvisionedResource[]; stop_resources?: ProvisionedResource[] };
}

export interface FailRequest {
  type: 'fail';
  id: number;
  job_id: string;
  error: string;
  workspace_build?: { state?: string };
}

export interface FileRequest {
  type: 'file';
  id: number;
  file_id: string;
}
export interface FileResult {
  /** base64 */
  data: string;
}

export type DaemonMessage = RegisterRequest | AcquireRequest | AcquireCancelRequest | UpdateRequest | CompleteRequest | FailRequest | FileRequest;

export type WireErrorCode = ProvisionerdErrorCode | 'bad_request' | 'unauthorized' | 'conflict' | 'internal';

export type ServerMessage =
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: { code: WireErrorCode; message: string } }
  | { type: 'cancel'; job_id: string };

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

export function fromBase64(s: string): Uint8Array {
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
