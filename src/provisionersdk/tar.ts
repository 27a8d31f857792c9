/**
 * A small tar reader: POSIX ustar (with its name prefix), GNU long names (`L`/`K`) and pax `path`/`linkpath`/`size`
 * records. Template archives come from users, so the reader checks every header's checksum and every length against
 * the buffer, and never trusts a size to stay inside it.
 */

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  path: string;
  type: TarEntryType;
  /** The raw type flag, for messages about `other` entries. */
  typeflag: string;
  mode: number;
  size: number;
  linkname: string;
  /** A view into the archive; no copy. */
  data: Uint8Array;
}

export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarError';
  }
}

const BLOCK = 512;
const dec = new TextDecoder('utf-8');

/** Entry types whose size field means nothing (Go's archive/tar treats them the same way). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

export function* readTar(data: Uint8Array): Generator<TarEntry> {
  let off = 0;
  // Extended names and sizes apply to the next real entry only.
  let nextPath: string | undefined;
  let nextLink: string | undefined;
  let nextSize: number | undefined;
  while (off + BLOCK <= data.length) {
    const h = data.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return;
    verifyChecksum(h, off);
    const typeflag = h[156] === 0 ? '0' : String.fromCharCode(h[156] as number);
    let size = parseNumber(h.subarray(124, 136), 'size', off);
    if (HEADER_ONLY.has(typeflag)) size = 0;
    const bodyStart = off + BLOCK;
    if (typeflag === 'x' || typeflag === 'L' || typeflag === 'K' || typeflag === 'g') {
      if (bodyStart + size > data.length) throw new TarError(`truncated archive: extended header at offset ${off} runs past the end`);
      const body = data.subarray(bodyStart, bodyStart + size);
      if (typeflag === 'L') nextPath = cstring(body);
      else if (typeflag === 'K') nextLink = cstring(body);
      else if (typeflag === 'x') {
        const pax = parsePax(body, off);
        if (pax.path !== undefined) nextPath = pax.path;
        if (pax.linkpath !== undefined) nextLink = pax.linkpath;
        if (pax.size !== undefined) nextSize = pax.size;
      }
      // Global pax headers ('g') carry defaults such as mtime that an extractor of plain files does not need.
      off = bodyStart + roundUp(size);
      continue;
    }
    if (nextSize !== undefined && !HEADER_ONLY.has(typeflag)) size = nextSize;
    if (bodyStart + size > data.length) throw new TarError(`truncated archive: entry at offset ${off} runs past the end`);
    const magic = dec.decode(h.subarray(257, 263));
    let name = cstring(h.subarray(0, 100));
    // Only POSIX ustar has a name prefix; GNU tar uses those bytes for other fields.
    if (magic === 'ustar\0') {
      const prefix = cstring(h.subarray(345, 500));
      if (prefix) name = `${prefix}/${name}`;
    }
    const entry: TarEntry = {
      path: nextPath ?? name,
      type: entryType(typeflag),
      typeflag,
      mode: parseNumber(h.subarray(100, 108), 'mode', off),
      size,
      linkname: nextLink ?? cstring(h.subarray(157, 257)),
      data: data.subarray(bodyStart, bodyStart + size),
    };
    nextPath = nextLink = nextSize = undefined;
    off = bodyStart + roundUp(size);
    yield entry;
  }
  if (off < data.length && !data.subarray(off).every((b) => b === 0)) throw new TarError('truncated archive: partial header at the end');
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '7': // contiguous file: a regular file for every purpose here
      return 'file';
    case '5':
      return 'dir';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

function verifyChecksum(h: Uint8Array, off: number): void {
  const stored = parseNumber(h.subarray(148, 156), 'checksum', off);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  // Some old writers summed signed bytes; both are accepted, as GNU tar does.
  if (stored !== unsigned && stored !== signed) throw new TarError(`not a tar archive (bad header checksum at offset ${off})`);
}

/** Octal text, or GNU base-256 (high bit set) for values too large for octal. */
function parseNumber(field: Uint8Array, what: string, off: number): number {
  if (((field[0] as number) & 0x80) !== 0) {
    let n = (field[0] as number) & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] as number);
    if (!Number.isSafeInteger(n)) throw new TarError(`header at offset ${off}: ${what} is too large`);
    return n;
  }
  const text = dec.decode(field).replace(/[\0 ]+$/g, '').replace(/^[\0 ]+/g, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError(`header at offset ${off}: invalid ${what} field`);
  return parseInt(text, 8);
}

function parsePax(body: Uint8Array, off: number): { path?: string; linkpath?: string; size?: number } {
  const out: { path?: string; linkpath?: string; size?: number } = {};
  let i = 0;
  while (i < body.length) {
    let sp = i;
    while (sp < body.length && body[sp] !== 0x20) sp++;
    const len = Number(dec.decode(body.subarray(i, sp)));
    if (!Number.isInteger(len) || len <= 0 || i + len > body.length) {
      if (body.subarray(i).every((b) => b === 0)) break;
      throw new TarError(`header at offset ${off}: malformed pax record`);
    }
    const record = dec.decode(body.subarray(sp + 1, i + len - 1));
    const eq = record.indexOf('=');
    if (eq > 0) {
      const key = record.slice(0, eq);
      const value = record.slice(eq + 1);
      if (key === 'path') out.path = value;
      else if (key === 'linkpath') out.linkpath = value;
      else if (key === 'size') {
        const n = Number(value);
        if (!Number.isSafeInteger(n) || n < 0) throw new TarError(`header at offset ${off}: invalid pax size`);
        out.size = n;
      }
    }
    i += len;
  }
  return out;
}

function cstring(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return dec.decode(nul < 0 ? b : b.subarray(0, nul));
}

function roundUp(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}
