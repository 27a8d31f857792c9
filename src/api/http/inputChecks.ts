import { ApiError } from './errors.js';

/** Deepest nesting of arrays and objects a JSON body may have. Deeper bodies are refused before they are parsed. */
export const MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of a JSON text, counted without parsing it (strings skipped), stopping as soon as it passes
 * `max`. Recursive code further on (validation, serialization) would otherwise overflow the stack on a body such as
 * 4,500 nested arrays.
 */
export function jsonDepthExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * The first string (value or key) in `value` that PostgreSQL cannot store or that is not valid Unicode: one with a NUL
 * character, or a lone UTF-16 surrogate (`"\ud800"`). Returns its path (`/a/0/b`), or undefined when every string is fine.
 * Iterative, so it cannot overflow the stack whatever the input.
 */
export function findUnstorableString(value: unknown, root = ''): string | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length) {
    const [v, path] = stack.pop() as [unknown, string];
    if (typeof v === 'string') {
      if (!isStorable(v)) return path || '/';
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}/${i}`]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (!isStorable(k)) return `${path}/${k.replace(/[\0\ud800-\udfff]/g, '?')}`;
        stack.push([child, `${path}/${k}`]);
      }
    }
  }
  return undefined;
}

function isStorable(s: string): boolean {
  return !s.includes('\0') && (s as string & { isWellFormed(): boolean }).isWellFormed();
}

export function unstorableStringError(where: 'body' | 'query' | 'path', path: string): ApiError {
  const field = path.replace(/^\//, '').replace(/\//g, '.') || where;
  return new ApiError(400, 'Invalid characters in request.', `A string in the request ${where} contains a NUL character or invalid UTF-16.`, [
    { field, detail: 'must not contain NUL characters or unpaired UTF-16 surrogates' },
  ]);
}
