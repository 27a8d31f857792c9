import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { topLevelValue } from '../../src/provisioners/echo/topLevelValue.js';

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
});
