import type { Response } from './types/response.js';

/** Thrown by the client for every non-2xx answer; carries the status and the server's error envelope. */
export class SdkError extends Error {
  constructor(
    readonly status: number,
    readonly response: Response,
    readonly method: string,
    readonly url: string,
  ) {
    super(response.detail ? `${response.message} ${response.detail}` : response.message);
    this.name = 'SdkError';
  }
}

export function isSdkError(e: unknown, status?: number): e is SdkError {
  return e instanceof SdkError && (status === undefined || e.status === status);
}
