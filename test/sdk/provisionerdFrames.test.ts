import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { chunks } from '../../src/sdk/provisionerd.js';

/** The daemon splits its log batches so that every frame stays far below the server's 16 MiB frame cap. */
describe('log batches split into frames', () => {
  it('keeps every frame within the byte bound, in order, and never drops or splits a line', () => {
    const lines = Array.from({ length: 300 }, (_, i) => ({ n: i, output: 'x'.repeat(i % 7 === 0 ? 5000 : 100) }));
    const frames = chunks(lines, 20_000);
    assert.ok(frames.length > 1);
    for (const f of frames) {
      const size = f.reduce((n, l) => n + JSON.stringify(l).length, 0);
      assert.ok(size <= 20_000 || f.length === 1, `frame of ${size} bytes`);
    }
    assert.deepEqual(frames.flat().map((l) => l.n), lines.map((l) => l.n));
  });

  it('a line larger than the bound travels alone; an empty batch is one empty frame', () => {
    const frames = chunks([{ output: 'a' }, { output: 'b'.repeat(100) }, { output: 'c' }], 50);
    assert.deepEqual(frames.map((f) => f.length), [1, 1, 1]);
    assert.deepEqual(chunks([]), [[]]);
  });

  it('the default bound is 512 KiB', () => {
    const line = { output: 'y'.repeat(100 * 1024) };
    assert.deepEqual(chunks(Array.from({ length: 12 }, () => line)).map((f) => f.length), [5, 5, 2]);
  });
});
