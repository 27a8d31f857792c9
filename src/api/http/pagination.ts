import type { ValidationError } from '../../sdk/types/response.js';
import { errors } from './errors.js';
import { isUuid } from '../../sdk/uuid.js';


/** Rows a list answers with when the request names no `limit` (or `limit=0`). */
export const DEFAULT_PAGE_SIZE = 100;
/** The most rows one page may hold; a larger `limit` is lowered to this. */
export const MAX_PAGE_SIZE = 1000;

export interface Page {
  afterId?: string;
  offset: number;
  /** Always set: `DEFAULT_PAGE_SIZE` when the request names none, never above `MAX_PAGE_SIZE`. */
  limit: number;
}

/** A page size from a request's raw `limit`: the default when absent, zero or not a number, at most the maximum. */
export function pageSize(raw: number | undefined): number {
  if (raw === undefined || !Number.isFinite(raw) || raw <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(Math.floor(raw), MAX_PAGE_SIZE);
}

/**
 * Coder's pagination query (`after_id`, `limit`, `offset`) for lists of builds and template versions. Unlike Coder,
 * no `limit` (or `limit=0`) is not "everything": it is `DEFAULT_PAGE_SIZE`, and no page exceeds `MAX_PAGE_SIZE`. Negative or
 * non-integer values are 400 with one validation per field (deviation 13; Coder answered 500).
 */
export function parsePagination(q: Record<string, string | undefined>): Page {
  const v: ValidationError[] = [];
  const int = (name: 'limit' | 'offset'): number | undefined => {
    const raw = q[name];
    if (raw === undefined || raw === '') return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) > 2 ** 31 - 1) {
      v.push({ field: name, detail: `Query param "${name}" must be a valid non-negative integer (got "${raw}")` });
      return undefined;
    }
    return Number(raw);
  };
  const limit = int('limit');
  const offset = int('offset') ?? 0;
  const afterId = q.after_id || undefined;
  if (afterId !== undefined && !isUuid(afterId)) v.push({ field: 'after_id', detail: 'Query param "after_id" must be a valid uuid' });
  if (v.length) throw errors.badRequest('Query parameters have invalid values.', undefined, v);
  return { afterId, offset, limit: pageSize(limit) };
}
