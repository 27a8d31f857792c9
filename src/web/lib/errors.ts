import { SdkError, type ValidationError } from '../sdk.js';

/** An error as the dashboard shows it: the API's message and detail, never a bare stack. */
export interface ErrorInfo {
  title: string;
  detail?: string;
  status?: number;
  where?: string;
  validations: ValidationError[];
}

export function describeError(e: unknown): ErrorInfo {
  if (e instanceof SdkError) {
    return {
      title: e.response.message || `Request failed with status ${e.status}`,
      detail: e.response.detail,
      status: e.status,
      where: `${e.method} ${e.url}`,
      validations: e.response.validations ?? [],
    };
  }
  if (e instanceof TypeError && /fetch|network/i.test(e.message)) {
    return { title: 'Could not reach the kiln server.', detail: e.message, validations: [] };
  }
  if (e instanceof Error) return { title: e.message || e.name, validations: [] };
  return { title: String(e), validations: [] };
}
