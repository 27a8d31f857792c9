import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

import { extractTar } from './extract.js';

/**
 * Archives made by the real tools, committed as fixtures (fixtures/): GNU tar 1.34 in its gnu and posix (pax) formats,
 * bsdtar (libarchive 3) in ustar and pax. Each holds main.tf, sub/run.sh (mode 755), a 120-character file name under
 * sub/deeper (not in ustar, which cannot hold it) and a symlink link.tf → main.tf.
 */
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const LONG = `${'n'.repeat(120)}.txt`;

describe('extractTar on archives from GNU tar and bsdtar', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  for (const [file, hasLong] of [
    ['gnu.tar', true],
    ['gnu-pax.tar', true],
    ['bsdtar-pax.tar', true],
    ['bsdtar-ustar.tar', false],
  ] as const) {
    it(`unpacks ${file}: files, modes, long names; links skipped`, async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-extract-'));
      dirs.push(dir);
      const res = await extractTar(await readFile(path.join(FIXTURES, file)), dir);
      assert.equal(await readFile(path.join(dir, 'main.tf'), 'utf8'), 'resource "x" {}\n');
      assert.equal(await readFile(path.join(dir, 'sub', 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
      assert.equal((await stat(path.join(dir, 'sub', 'run.sh'))).mode & 0o777, 0o755);
      if (hasLong) assert.equal(await readFile(path.join(dir, 'sub', 'deeper', LONG), 'utf8'), 'deep\n');
      assert.equal(res.files, hasLong ? 3 : 2);
      assert.deepEqual(res.skipped.map((s) => s.path.replace(/^\.\//, '')), ['link.tf']);
      await assert.rejects(stat(path.join(dir, 'link.tf')), 'the symlink is not written');
    });
  }
});
