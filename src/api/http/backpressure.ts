import type { Writable } from 'node:stream';

/** Default bytes a stream may hold unsent (see StreamLimits.maxUnsentBytes). */
export const MAX_UNSENT_BYTES = 1024 * 1024;

/**
 * Writes to a long-lived stream (SSE response, socket) without ever buffering without limit: when the client has not
 * taken what was already written (the kernel's buffers are full and Node's queue holds more than `limit` bytes), the
 * connection is destroyed instead of queueing more. Returns false when the client was dropped (or was already gone).
 */
export function boundedWrite(out: Writable, chunk: string, limit = MAX_UNSENT_BYTES): boolean {
  if (out.destroyed || out.writableEnded) return false;
  // What is already waiting decides, not the new chunk: one event larger than the bound (a workspace with many
  // resources) still reaches a client that reads; a client that does not is dropped at the next write.
  if (out.writableLength > limit) {
    out.destroy();
    return false;
  }
  out.write(chunk);
  return true;
}
