import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { timeOrderedUuid } from './timeOrderedUuid.js';

describe('timeOrderedUuid', () => {
  it('is a version 7, RFC 9562 variant UUID whose first 48 bits are the time in milliseconds', () => {
    const at = new Date('2026-12-01T21:40:05.123Z');
    const id = timeOrderedUuid(at);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), at.getTime());
  });

  it('sorts by time as text, as PostgreSQL sorts uuid values (bytewise)', () => {
    const t0 = Date.UTC(2026, 11, 1);
    const ids = [0, 1, 2, 1000, 86_400_000, 2 ** 40].map((d) => timeOrderedUuid(new Date(t0 + d)));
    assert.deepEqual([...ids].sort(), ids);
    // Two in the same millisecond differ (74 random bits).
    const same = new Date(t0);
    assert.notEqual(timeOrderedUuid(same), timeOrderedUuid(same));
  });

  it('takes times before 1970 as 0, and wraps past 2^48 ms (the year 10889), as RFC 9562 allows', () => {
    assert.equal(timeOrderedUuid(new Date(-5)).slice(0, 13), '00000000-0000');
    const far = 8.64e15; // the last Date
    assert.equal(parseInt(timeOrderedUuid(new Date(far)).replace(/-/g, '').slice(0, 12), 16), far % 2 ** 48);
  });
});
