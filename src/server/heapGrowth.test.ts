import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { boundHeapGrowth } from './heapGrowth.js';

// The effect (the 200,000-line job's peak RSS) is measured by bench/ (the "peak server RSS" table), not here.
describe('boundHeapGrowth', () => {
  it('refuses a negative or fractional percent, naming it', () => {
    assert.throws(() => boundHeapGrowth(-1), /whole number ≥ 0, not -1/);
    assert.throws(() => boundHeapGrowth(50.5), /not 50\.5/);
    assert.throws(() => boundHeapGrowth(Number.NaN), /not NaN/);
  });

  it('takes 0 (V8 decides) and a whole percent', () => {
    assert.doesNotThrow(() => boundHeapGrowth(0));
    assert.doesNotThrow(() => boundHeapGrowth(100));
  });
});
