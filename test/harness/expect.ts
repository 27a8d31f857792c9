import assert from 'node:assert/strict';

import { isSdkError, type SdkError } from '../../src/sdk/errors.js';

/** Awaits a call that must fail with `status`, checks the error envelope, and returns the error for more checks. */
export async function expectApiError(p: Promise<unknown>, status: number, message?: string | RegExp): Promise<SdkError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isSdkError(e), `expected an API error, got ${String(e)}`);
    assert.equal(e.status, status, `wrong status; body: ${JSON.stringify(e.response)}`);
    assert.equal(typeof e.response.message, 'string', 'the envelope carries a message');
    for (const k of Object.keys(e.response)) assert.ok(['message', 'detail', 'validations'].includes(k), `unexpected envelope key ${k}`);
    if (typeof message === 'string') assert.equal(e.response.message, message);
    else if (message) assert.match(e.response.message, message);
    return e;
  }
  assert.fail(`expected HTTP ${status}, but the call succeeded`);
}
