import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads units, compounds, fractions and bare milliseconds', () => {
    assert.equal(parseDuration('300ms'), 300);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration(' 250 '), 250);
    assert.equal(parseDuration('0'), 0);
  });

  it('refuses empty, unknown units, signs and trailing junk', () => {
    for (const bad of ['', ' ', '5', 'x', '5x', '-5s', '5s junk', 's', '1h-30m', '5 m']) {
      if (bad === '5') continue; // a bare number is milliseconds
      assert.throws(() => parseDuration(bad), /invalid duration/, JSON.stringify(bad));
    }
  });
});

describe('formatDuration', () => {
  it('prints milliseconds, seconds and minutes', () => {
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(42_000), '42s');
    assert.equal(formatDuration(125_000), '2m5s');
  });
});
