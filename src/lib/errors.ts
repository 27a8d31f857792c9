/** Turns anything thrown into an Error, so every catch site can log `.message` without guessing. */
export function coerceError(e: unknown): Error {
  if (e instanceof Error) return e;
  if (typeof e === 'string') return new Error(e);
  try {
    return new Error(JSON.stringify(e));
  } catch {
    return new Error(String(e));
  }
}

/** PostgreSQL SQLSTATEs worth a retry: serialization failures, deadlocks, and connection loss. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '08000', '08003', '08006']);
const RETRYABLE_NET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

export function isRetryable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (RETRYABLE_SQLSTATES.has(code) || RETRYABLE_NET_CODES.has(code));
}
