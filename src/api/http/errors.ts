import type { ValidationError } from '../../sdk/types/response.js';

/**
 * An error with an HTTP status and the envelope the client sees. Handlers throw these; the error handler writes them.
 * Every message a client depends on is built here, in one place.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string,
    readonly validations?: ValidationError[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';

export const errors = {
  resourceNotFound: () => new ApiError(404, 'Resource not found or you do not have access to this resource'),
  routeNotFound: (method: string, url: string) => new ApiError(404, 'Route not found.', `${method} ${url.split('?')[0]}`),
  forbidden: () => new ApiError(403, 'Forbidden.'),
  unauthorized: (detail: string) => new ApiError(401, SIGNED_OUT, detail),
  invalidJson: (detail: string) => new ApiError(400, 'Request body must be valid JSON.', detail),
  validation: (validations: ValidationError[]) => new ApiError(400, 'Validation failed.', undefined, validations),
  invalidUuid: (raw: string, field: string) =>
    new ApiError(400, `Invalid UUID "${raw}".`, `invalid UUID length or format: "${raw}"`, [{ field, detail: 'Invalid UUID' }]),
  bodyTooLarge: (limit: number) => new ApiError(413, 'Request body is too large.', `The limit is ${limit} bytes.`),
  internal: (message: string, detail?: string) => new ApiError(500, message, detail),
  conflict: (message: string, detail?: string, validations?: ValidationError[]) => new ApiError(409, message, detail, validations),
  badRequest: (message: string, detail?: string, validations?: ValidationError[]) => new ApiError(400, message, detail, validations),
};
