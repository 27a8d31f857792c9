import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { arrayChunks, topLevelValue } from '../../src/provisioners/echo/topLevelValue.js';

/** The value's text as topLevelValue finds it, parsed; null when absent, undefined when the scan gives up. */
function valueOf(text: string, key: string): unknown {
  const bytes = Buffer.from(text, 'utf8');
  const span = topLevelValue(bytes, key);
  if (span === null || span === undefined) return span;
  return JSON.parse(bytes.toString('utf8', span.start, span.end));
}

describe('topLevelValue: one key of an echo.json without parsing the rest', () => {
  it('finds the same value JSON.parse does, whatever surrounds it', () => {
    const docs = [
      { start: { logs: [{ output: 'a' }] }, stop: { logs: [] } },
      { stop: { logs: [{ output: 'braces } ] { [ and "quotes" and \\ backslashes' }] }, start: { delay_ms: 5 } },
      { parameters: [{ name: 'x', default: '}' }], start: 'not an object', stop: null, n: -1.5e3, t: true },
      { 'sta\u0072t': { logs: [{ output: 'héllo ✓ 🚀' }] }, 'é': [[], {}, [[{}]]] },
      { start: { logs: [{ output: 'a' }] }, other: { logs: [{ output: 'x' }] } },
    ];
    for (const doc of docs) {
      for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2), ` \n${JSON.stringify(doc, null, '\t')}\r\n`]) {
        for (const key of ['start', 'stop', 'é', 'n', 't']) {
          const want = (doc as Record<string, unknown>)[key];
          assert.deepEqual(valueOf(text, key), want === undefined ? null : want, `${key} in ${text}`);
        }
      }
    }
  });

  it('takes the last of duplicate keys, as JSON.parse does', () => {
    assert.deepEqual(valueOf('{"start": {"a": 1}, "start": {"b": 2}}', 'start'), { b: 2 });
    assert.deepEqual(valueOf('{"st\\u0061rt": 1, "start": 2, "start": 3}', 'start'), 3);
  });

  it('gives up (so the caller parses the whole document) on anything that is not one object', () => {
    for (const text of ['', '{not json', '[1, 2]', '"start"', '{"start": {"a": 1}', '{"start": 1} trailing', '{"start" 1}', '{"start": 1,}', '{"start": "unterminated}', '{start: 1}']) {
      assert.equal(topLevelValue(Buffer.from(text), 'start'), undefined, text);
    }
    assert.equal(topLevelValue(Buffer.from(' {} '), 'start'), null);
  });

  it('arrayChunks: the elements of an array, n at a time, as JSON.parse reads them', () => {
    const arrays = [[], [1], [{ output: 'a ] } [ {' }, 'b"', null, true, -2.5e3, [[], [{}]]], Array.from({ length: 1_001 }, (_, i) => ({ output: `l${i}`, level: 'info' }))];
    for (const arr of arrays) {
      for (const text of [JSON.stringify(arr), JSON.stringify(arr, null, 2)]) {
        const bytes = Buffer.from(`{"logs": ${text}}`);
        const span = topLevelValue(bytes, 'logs');
        assert.ok(span);
        for (const n of [1, 3, 500]) {
          const chunks: unknown[][] = [...arrayChunks(bytes, span, n)];
          assert.ok(chunks.every((c, i) => c.length === n || i === chunks.length - 1), 'full chunks but the last');
          assert.deepEqual(chunks.flat(), arr);
        }
      }
    }
  });

  it('arrayChunks throws a SyntaxError for an array that is not JSON', () => {
    for (const text of ['[1 2]', '[1,,2]', '[{"a": }]', '[1, 2']) {
      const bytes = Buffer.from(text);
      assert.throws(() => [...arrayChunks(bytes, { start: 0, end: bytes.length }, 2)], SyntaxError, text);
    }
  });
});
