/**
 * Schema helpers for routes. The wire shapes themselves live in `sdk/types/*` (one TypeBox definition per shape: the
 * TypeScript type, the validation and serialization schema, the OpenAPI document); this module adds what only the
 * server needs: path parameters and the error responses every route can answer.
 */
import { Response } from '../../sdk/types/response.js';
import { Arr, Obj, Str, Type, Uuid, type TSchema } from '../../sdk/types/wire.js';

export const str = Str();
export const uuid = Uuid();

export function arr<T extends TSchema>(items: T) {
  return Arr(items);
}

export const responseSchema = Response;

/** Error statuses every authenticated route can answer, each with the envelope. */
export const errorResponses = {
  '4xx': responseSchema,
  '5xx': responseSchema,
} as const;

/** Path params that must be UUIDs: a bad one answers 400 `Invalid UUID "<raw>".` */
export function uuidParams(...names: string[]) {
  return Obj(Object.fromEntries(names.map((n) => [n, Uuid()])));
}

/** Path params (all required). */
export function params(properties: Record<string, TSchema>) {
  return Obj(properties);
}

export { Type };
