/**
 * Where the value of one top-level key of a JSON object lies in the object's UTF-8 bytes, found by scanning, without
 * building the document. A build parses only its own phase's script this way: a template's echo.json may script
 * hundreds of thousands of lines for each phase, and every object parsed outlives the build's young-generation GCs
 * (the whole document is parsed, and checked, when the template is imported).
 *
 * Returns null when the object has no such key (the last occurrence wins, as in JSON.parse), and undefined when the
 * bytes are not an object this scan understands: the caller then parses the whole document and reports its error.
 * Values other than the key's are skipped by bracket matching, not checked.
 */
export function topLevelValue(bytes: Uint8Array, key: string): { start: number; end: number } | null | undefined {
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== BRACE_OPEN) return undefined;
  i = skipSpace(bytes, i + 1);
  let found: { start: number; end: number } | null = null;
  if (bytes[i] === BRACE_CLOSE) return trailingSpaceOnly(bytes, i + 1) ? null : undefined;
  for (;;) {
    if (bytes[i] !== QUOTE) return undefined;
    const keyEnd = skipString(bytes, i);
    if (keyEnd < 0) return undefined;
    const name = decodeKey(bytes, i, keyEnd);
    if (name === undefined) return undefined;
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) return undefined;
    const start = skipSpace(bytes, i + 1);
    const end = skipValue(bytes, start);
    if (end < 0) return undefined;
    if (name === key) found = { start, end };
    i = skipSpace(bytes, end);
    if (bytes[i] === COMMA) {
      i = skipSpace(bytes, i + 1);
      continue;
    }
    if (bytes[i] === BRACE_CLOSE) return trailingSpaceOnly(bytes, i + 1) ? found : undefined;
    return undefined;
  }
}

/**
 * The elements of the JSON array at `span` (bytes[span.start] is `[`), parsed `n` at a time as the caller asks for
 * them: a script's lines are read while the job runs, a chunk at a time, never all at once. Throws a SyntaxError
 * when the array is not valid JSON.
 */
export function* arrayChunks(bytes: Uint8Array, span: { start: number; end: number }, n: number): Generator<unknown[]> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = skipSpace(bytes, span.start + 1);
  if (bytes[i] === BRACKET_CLOSE) return;
  for (;;) {
    const first = i;
    let last = i;
    let closed = false;
    for (let k = 0; k < n; k++) {
      last = skipValue(bytes, i);
      if (last < 0 || last > span.end) throw new SyntaxError('unterminated array');
      i = skipSpace(bytes, last);
      if (bytes[i] === BRACKET_CLOSE) {
        closed = true;
        break;
      }
      if (bytes[i] !== COMMA) throw new SyntaxError(`unexpected character at byte ${i}`);
      i = skipSpace(bytes, i + 1);
    }
    yield JSON.parse(`[${buf.toString('utf8', first, last)}]`) as unknown[];
    if (closed) return;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const BRACE_OPEN = 0x7b;
const BRACE_CLOSE = 0x7d;
const BRACKET_OPEN = 0x5b;
const BRACKET_CLOSE = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function skipSpace(bytes: Uint8Array, i: number): number {
  while (isSpace(bytes[i])) i++;
  return i;
}

function trailingSpaceOnly(bytes: Uint8Array, i: number): boolean {
  return skipSpace(bytes, i) === bytes.length;
}

/** The index just past the string starting at `i` (a quote), or -1 if it does not end. */
function skipString(bytes: Uint8Array, i: number): number {
  for (let j = i + 1; j < bytes.length; j++) {
    const b = bytes[j];
    if (b === BACKSLASH) j++;
    else if (b === QUOTE) return j + 1;
  }
  return -1;
}

/** The index just past the value starting at `i`, or -1. Nested brackets are matched; strings inside are skipped. */
function skipValue(bytes: Uint8Array, i: number): number {
  const first = bytes[i];
  if (first === QUOTE) return skipString(bytes, i);
  if (first !== BRACE_OPEN && first !== BRACKET_OPEN) {
    // A number, true, false or null: up to the next delimiter.
    let j = i;
    while (j < bytes.length && bytes[j] !== COMMA && bytes[j] !== BRACE_CLOSE && bytes[j] !== BRACKET_CLOSE && !isSpace(bytes[j])) j++;
    return j > i ? j : -1;
  }
  let depth = 0;
  for (let j = i; j < bytes.length; j++) {
    const b = bytes[j];
    if (b === QUOTE) {
      j = skipString(bytes, j) - 1;
      if (j < 0) return -1;
    } else if (b === BRACE_OPEN || b === BRACKET_OPEN) depth++;
    else if (b === BRACE_CLOSE || b === BRACKET_CLOSE) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

function decodeKey(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8')) as string;
  } catch {
    return undefined;
  }
}
