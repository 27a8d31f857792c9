import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { startupLogLineCost, STARTUP_LOG_LINE_OVERHEAD } from './startupLogs.js';

describe('startup log cap cost', () => {
  it('counts a per-line overhead: empty lines are not free', () => {
    assert.equal(startupLogLineCost(''), STARTUP_LOG_LINE_OVERHEAD);
    assert.equal(startupLogLineCost('é'), 2 + STARTUP_LOG_LINE_OVERHEAD);
  });
});
