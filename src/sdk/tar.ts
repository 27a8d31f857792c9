/**
 * Builds tar archives (POSIX ustar, with pax headers for long names) for template uploads, so tests and the CLI never
 * shell out to `tar`. The writer writes what it is given, unchecked: tests use it to build hostile archives too.
 *
 * @example
 * const tar = createTar({ 'echo.json': JSON.stringify({ start: { logs: [{ output: 'hi' }] } }) });
 * const { hash } = await client.upload(tar);
 */

export type TarEntryInput =
  | { path: string; type?: 'file'; content: string | Uint8Array; mode?: number }
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'symlink' | 'hardlink'; linkname: string };

const BLOCK = 512;
const enc = new TextEncoder();

/** `{path: content}` or a list of entries → tar bytes. Object keys are written in insertion order. */
export function createTar(files: Record<string, string | Uint8Array> | TarEntryInput[]): Uint8Array {
  const entries: TarEntryInput[] = Array.isArray(files) ? files : Object.entries(files).map(([path, content]) => ({ path, content }));
  const chunks: Uint8Array[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? toBytes((e as { content: string | Uint8Array }).content) : new Uint8Array(0);
    const linkname = type === 'symlink' || type === 'hardlink' ? (e as { linkname: string }).linkname : '';
    const name = type === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
    const pax: Record<string, string> = {};
    if (enc.encode(name).length > 100) pax.path = name;
    if (enc.encode(linkname).length > 100) pax.linkpath = linkname;
    if (Object.keys(pax).length) {
      const paxBody = encodePax(pax);
      chunks.push(header({ name: 'PaxHeader', size: paxBody.length, typeflag: 'x', mode: 0o644 }), pad(paxBody));
    }
    const mode = 'mode' in e && e.mode !== undefined ? e.mode : type === 'dir' ? 0o755 : 0o644;
    const typeflag = { file: '0', dir: '5', symlink: '2', hardlink: '1' }[type];
    chunks.push(header({ name: truncate(name, 100), size: body.length, typeflag, mode, linkname: truncate(linkname, 100) }));
    if (body.length) chunks.push(pad(body));
  }
  // Two zero blocks end the archive.
  chunks.push(new Uint8Array(BLOCK * 2));
  return concat(chunks);
}

/** Every regular file under `dir` (recursively, sorted, relative paths) into a tar. Symlinks are not followed. */
export async function tarDirectory(dir: string): Promise<Uint8Array> {
  // Loaded lazily so the SDK stays usable in a browser, where only createTar makes sense.
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const entries: TarEntryInput[] = [];
  async function walk(rel: string): Promise<void> {
    const list = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of list) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        entries.push({ path: p, type: 'dir' });
        await walk(p);
      } else if (d.isFile()) {
        const full = path.join(dir, p);
        const [content, st] = await Promise.all([fs.readFile(full), fs.stat(full)]);
        entries.push({ path: p, content: new Uint8Array(content), mode: st.mode & 0o777 });
      }
    }
  }
  await walk('');
  return createTar(entries);
}

function toBytes(c: string | Uint8Array): Uint8Array {
  return typeof c === 'string' ? enc.encode(c) : c;
}

function truncate(s: string, max: number): string {
  const b = enc.encode(s);
  return b.length <= max ? s : new TextDecoder().decode(b.slice(0, max));
}

function header(h: { name: string; size: number; typeflag: string; mode: number; linkname?: string }): Uint8Array {
  const b = new Uint8Array(BLOCK);
  const put = (off: number, len: number, s: string) => b.set(enc.encode(s).slice(0, len), off);
  const octal = (off: number, len: number, n: number) => put(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  put(0, 100, h.name);
  octal(100, 8, h.mode);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, h.size);
  octal(136, 12, 0);
  put(156, 1, h.typeflag);
  put(157, 100, h.linkname ?? '');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  // The checksum is computed with its own field read as eight spaces.
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return b;
}

/** pax records are `<len> <key>=<value>\n`, where len counts the whole record including its own digits. */
function encodePax(fields: Record<string, string>): Uint8Array {
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    const rest = ` ${k}=${v}\n`;
    const restLen = enc.encode(rest).length;
    let len = restLen + 1;
    while (String(len).length + restLen !== len) len = String(len).length + restLen;
    out += `${len}${rest}`;
  }
  return enc.encode(out);
}

function pad(data: Uint8Array): Uint8Array {
  const rem = data.length % BLOCK;
  if (rem === 0) return data;
  const out = new Uint8Array(data.length + BLOCK - rem);
  out.set(data);
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
