import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { JobLog } from '../sdk/types/provisionerd.js';

import { capLogs, MAX_LOG_LINE_BYTES, truncateUtf8 } from './logCap.js';

const line = (output: string, extra: Partial<JobLog> = {}): JobLog => ({ created_at: 0, source: 'provisioner', level: 'info', stage: 's', output, ...extra });

describe('capLogs (per-job log cap)', () => {
  it('keeps lines while they fit, then one warn line, then nothing', () => {
    const out = capLogs({ logs_length: 0, logs_overflowed: false }, [line('aaaa'), line('bbbb'), line('cccc')], 10);
    assert.deepEqual(out.lines.map((l) => l.output), ['aaaa', 'bbbb', "kiln: this job's logs reached the limit of 10 bytes; later lines were dropped."]);
    assert.equal(out.lines[2]?.level, 'warn');
    assert.equal(out.logsLength, 8);
    assert.equal(out.overflowed, true);
    assert.deepEqual(capLogs({ logs_length: 8, logs_overflowed: true }, [line('x')], 10).lines, []);
  });

  it('cuts one over-long line instead of refusing the batch, strips NUL, maps unknown levels to info', () => {
    const out = capLogs({ logs_length: 0, logs_overflowed: false }, [line('é'.repeat(MAX_LOG_LINE_BYTES)), line('a\u0000b', { level: 'loud' as JobLog['level'] })], 10 * MAX_LOG_LINE_BYTES);
    assert.ok(Buffer.byteLength(out.lines[0]?.output ?? '') <= MAX_LOG_LINE_BYTES);
    assert.equal(out.lines[1]?.output, 'ab');
    assert.equal(out.lines[1]?.level, 'info');
  });
});

describe('truncateUtf8', () => {
  it('never splits a character', () => {
    assert.equal(truncateUtf8('aé', 2), 'a');
    assert.equal(truncateUtf8('a😀', 4), 'a');
    assert.equal(truncateUtf8('a😀', 5), 'a😀');
    assert.equal(truncateUtf8('short', 100), 'short');
  });
});
