import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { extractTar } from '../../src/provisionersdk/extract.js';
import { readTar, TarError } from '../../src/provisionersdk/tar.js';
import { createTar, tarDirectory } from '../../src/sdk/tar.js';

const dec = new TextDecoder();

/** A GNU long-name entry (`L`) followed by the file it names, built by hand: our writer uses pax instead. */
function gnuLongName(name: string, content: string): Uint8Array {
  const header = (n: string, size: number, flag: string) => {
    const b = new Uint8Array(512);
    const put = (off: number, s: string) => b.set(new TextEncoder().encode(s), off);
    put(0, n.slice(0, 99));
    put(100, '0000644\0');
    put(108, '0000000\0');
    put(116, '0000000\0');
    put(124, size.toString(8).padStart(11, '0') + '\0');
    put(136, '00000000000\0');
    put(156, flag);
    put(257, 'ustar  \0');
    b.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of b) sum += x;
    put(148, sum.toString(8).padStart(6, '0') + '\0 ');
    return b;
  };
  const pad = (s: string) => {
    const bytes = new TextEncoder().encode(s);
    const out = new Uint8Array(Math.ceil(bytes.length / 512) * 512);
    out.set(bytes);
    return out;
  };
  const nameBody = name + '\0';
  const parts = [header('././@LongLink', nameBody.length, 'L'), pad(nameBody), header('truncated', content.length, '0'), pad(content), new Uint8Array(1024)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe('tar archives', () => {
  let root: string;
  let n = 0;
  const freshDir = async () => {
    const d = path.join(root, `x${++n}`, 'work');
    await mkdir(d, { recursive: true });
    return d;
  };
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-tar-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('round-trips files, directories and long names (pax) through the writer and the reader', () => {
    const long = `${'deep/'.repeat(30)}file.txt`;
    const tar = createTar([
      { path: 'echo.json', content: '{"start":{}}' },
      { path: 'dir', type: 'dir' },
      { path: 'dir/empty.txt', content: '' },
      { path: long, content: 'far down' },
      { path: 'bin/run.sh', content: '#!/bin/sh\n', mode: 0o755 },
    ]);
    const entries = [...readTar(tar)];
    assert.deepEqual(
      entries.map((e) => [e.path, e.type, e.size]),
      [
        ['echo.json', 'file', 12],
        ['dir/', 'dir', 0],
        ['dir/empty.txt', 'file', 0],
        [long, 'file', 8],
        ['bin/run.sh', 'file', 10],
      ],
    );
    assert.equal(dec.decode(entries[3]?.data), 'far down');
    assert.equal(entries[4]?.mode, 0o755);
  });

  it('reads GNU long names', () => {
    const name = `${'n'.repeat(150)}.txt`;
    const [e] = [...readTar(gnuLongName(name, 'gnu'))];
    assert.equal(e?.path, name);
    assert.equal(dec.decode(e?.data), 'gnu');
  });

  it('refuses garbage and truncated archives', () => {
    assert.throws(() => [...readTar(new TextEncoder().encode('x'.repeat(1024)))], TarError);
    const tar = createTar({ 'a.txt': 'x'.repeat(2000) });
    assert.throws(() => [...readTar(tar.subarray(0, 1024))], /truncated/);
  });

  it('extracts files and directories with their modes', async () => {
    const dir = await freshDir();
    const res = await extractTar(
      createTar([
        { path: './echo.json', content: '{}' },
        { path: 'a/b', type: 'dir' },
        { path: 'a/b/c.txt', content: 'c' },
        { path: 'run.sh', content: 'x', mode: 0o4755 },
        { path: 'zero', content: 'z', mode: 0 },
      ]),
      dir,
    );
    assert.deepEqual(res, { files: 4, dirs: 1, skipped: [] });
    assert.equal(await readFile(path.join(dir, 'a/b/c.txt'), 'utf8'), 'c');
    assert.equal((await stat(path.join(dir, 'run.sh'))).mode & 0o7777, 0o755, 'setuid is dropped');
    assert.equal((await stat(path.join(dir, 'zero'))).mode & 0o777, 0o600, 'mode 0 means 0600');
  });

  for (const [what, entries, message] of [
    ['an entry that climbs out with ../', [{ path: 'ok.txt', content: 'fine' }, { path: '../x', content: 'escaped' }], /entry "\.\.\/x" escapes the template directory/],
    ['a nested climb out', [{ path: 'a/../../x', content: 'escaped' }], /escapes the template directory/],
    ['an absolute path', [{ path: '/tmp/kiln-evil', content: 'x' }], /absolute path/],
    ['a symlink to /etc', [{ path: 'etc', type: 'symlink', linkname: '/etc' }], /symlink "etc" points outside the template directory \("\/etc"\)/],
    ['a relative symlink out', [{ path: 'a/link', type: 'symlink', linkname: '../../outside' }], /symlink "a\/link" points outside/],
    ['a hard link out', [{ path: 'h', type: 'hardlink', linkname: '../secret' }], /hard link "h" points outside/],
  ] as [string, Parameters<typeof createTar>[0], RegExp][]) {
    it(`refuses ${what}, writing nothing`, async () => {
      const dir = await freshDir();
      await assert.rejects(extractTar(createTar(entries), dir), message);
      assert.deepEqual(await readdir(dir), [], 'nothing is written from a refused archive');
      assert.deepEqual(await readdir(path.dirname(dir)), ['work'], 'nothing lands beside the directory either');
    });
  }

  it('skips links that stay inside, and never writes them', async () => {
    const dir = await freshDir();
    const res = await extractTar(
      createTar([
        { path: 'real.txt', content: 'r' },
        { path: 'inner', type: 'symlink', linkname: 'real.txt' },
        { path: 'hard', type: 'hardlink', linkname: 'real.txt' },
      ]),
      dir,
    );
    assert.equal(res.files, 1);
    assert.deepEqual(res.skipped.map((s) => s.path), ['inner', 'hard']);
    await assert.rejects(lstat(path.join(dir, 'inner')), { code: 'ENOENT' });
  });

  it('enforces the per-file and total size caps', async () => {
    await assert.rejects(extractTar(createTar({ big: new Uint8Array(2048) }), await freshDir(), { maxFileBytes: 1024 }), /"big" is 2048 bytes, over the 1024 bytes limit per file/);
    await assert.rejects(
      extractTar(createTar({ a: new Uint8Array(800), b: new Uint8Array(800) }), await freshDir(), { maxFileBytes: 1000, maxTotalBytes: 1500 }),
      /unpacks to more than 1500 bytes/,
    );
    // The default per-file cap is 10 MiB.
    await assert.rejects(extractTar(createTar({ huge: new Uint8Array(10 * 1024 * 1024 + 1) }), await freshDir()), /over the 10 MiB limit per file/);
  });

  it('turns a directory into a tar', async () => {
    const src = path.join(root, 'src-dir');
    await mkdir(path.join(src, 'sub'), { recursive: true });
    await writeFile(path.join(src, 'echo.json'), '{"start":{"logs":[]}}');
    await writeFile(path.join(src, 'sub', 'b.txt'), 'bee', { mode: 0o640 });
    const entries = [...readTar(await tarDirectory(src))];
    assert.deepEqual(entries.map((e) => [e.path, e.type]), [
      ['echo.json', 'file'],
      ['sub/', 'dir'],
      ['sub/b.txt', 'file'],
    ]);
    assert.equal(dec.decode(entries[2]?.data), 'bee');
    assert.equal(entries[2]?.mode, 0o640);
  });
});
