import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

import type { ValidationError } from '../../sdk/types/response.js';

/** ajv keyword → the validator tag name Coder's clients see in `Validation failed for tag "<tag>"`. */
const TAGS: Record<string, string> = { required: 'required', enum: 'oneof', format: 'format', type: 'type', pattern: 'regex', minLength: 'min', maxLength: 'max', minimum: 'min', maximum: 'max' };

function lookup(body: unknown, pointer: string): unknown {
  let cur: unknown = body;
  for (const part of pointer.split('/').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

/** One validations entry per failing field, named by its JSON path (`name`, `parameter_values.0.name`). */
export function toValidations(errs: FastifySchemaValidationError[], data: unknown): ValidationError[] {
  const out = new Map<string, ValidationError>();
  for (const e of errs) {
    const missing = (e.params as { missingProperty?: string }).missingProperty;
    const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const field = missing ? (path ? `${path}.${missing}` : missing) : path || '(body)';
    if (out.has(field)) continue;
    const value = missing ? '' : lookup(data, e.instancePath);
    const shown = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
    out.set(field, { field, detail: `Validation failed for tag "${TAGS[e.keyword] ?? e.keyword}" with value: "${shown}"` });
  }
  return [...out.values()];
}
