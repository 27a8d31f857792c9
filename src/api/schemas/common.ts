/**
 * JSON schemas shared by routes: they validate requests, serialize responses, and become the OpenAPI document.
 * Helpers stay tiny on purpose; each resource's schema file reads like its wire type.
 */
export const str = { type: 'string' } as const;
export const bool = { type: 'boolean' } as const;
export const int = { type: 'integer' } as const;
export const num = { type: 'number' } as const;
export const uuid = { type: 'string', format: 'uuid' } as const;
export const time = { type: 'string', format: 'date-time' } as const;
export const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export function obj(properties: Record<string, unknown>, required: string[] = [], extra: Record<string, unknown> = {}) {
  return { type: 'object', properties, required, additionalProperties: false, ...extra } as const;
}

export function arr(items: unknown) {
  return { type: 'array', items } as const;
}

export function nullable(schema: { type: string } & Record<string, unknown>) {
  return { ...schema, type: [schema.type, 'null'] };
}

export const responseSchema = {
  type: 'object',
  properties: {
    message: str,
    detail: str,
    validations: arr(obj({ field: str, detail: str }, ['field', 'detail'])),
  },
  required: ['message'],
} as const;

/** Error statuses every authenticated route can answer, each with the envelope. */
export const errorResponses = {
  '4xx': responseSchema,
  '5xx': responseSchema,
} as const;

/** Path params that must be UUIDs: a bad one answers 400 `Invalid UUID "<raw>".` */
export function uuidParams(...names: string[]) {
  return obj(Object.fromEntries(names.map((n) => [n, uuid])), names);
}

export function params(properties: Record<string, unknown>) {
  return obj(properties, Object.keys(properties));
}
