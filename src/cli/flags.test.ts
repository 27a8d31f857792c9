import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serverConfigFromArgs } from './commands/server.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

const specs: FlagSpec[] = [
  { name: 'size', type: 'number', env: true, default: 10, description: '' },
  { name: 'name', type: 'string', short: 'n', description: '' },
  { name: 'verbose', type: 'boolean', description: '' },
  { name: 'tag', type: 'list', description: '' },
];

describe('parseFlags', () => {
  it('reads --flag value, --flag=value, short flags, booleans, lists and positional arguments', () => {
    const { flags, args } = parseFlags(['--size', '5', '-n', 'x', '--verbose', '--tag=a', '--tag', 'b', 'pos', '--', '--not-a-flag'], specs, {});
    assert.deepEqual(flags, { size: 5, name: 'x', verbose: true, tag: ['a', 'b'] });
    assert.deepEqual(args, ['pos', '--not-a-flag']);
  });

  it('refuses an empty number (`--size=`) instead of reading it as 0', () => {
    assert.throws(() => parseFlags(['--size='], specs, {}), (e: Error) => e instanceof UsageError && /needs a number, got ""/.test(e.message));
    assert.throws(() => parseFlags(['--size', '  '], specs, {}), UsageError);
    assert.throws(() => parseFlags(['--size=12abc'], specs, {}), UsageError);
  });

  it('takes values from the environment, then the default; an empty env value is unset', () => {
    assert.equal(parseFlags([], specs, { KILN_SIZE: '7' }).flags.size, 7);
    assert.equal(parseFlags([], specs, { KILN_SIZE: '' }).flags.size, 10);
    assert.throws(() => parseFlags([], specs, { KILN_SIZE: 'lots' }), UsageError);
  });

  it('refuses unknown flags and missing values', () => {
    assert.throws(() => parseFlags(['--nope'], specs, {}), /unknown flag --nope/);
    assert.throws(() => parseFlags(['--name'], specs, {}), /needs a value/);
  });
});

describe('kiln server flags', () => {
  const cfg = (...argv: string[]) => serverConfigFromArgs(['--data-dir', '/tmp/kiln-flags-test', ...argv], {});

  it('parses durations and sizes', () => {
    const c = cfg('--job-hang-timeout', '90s', '--max-file-size', '2048', '--session-duration', '1h30m');
    assert.ok(c !== 'help');
    assert.equal(c.jobHangTimeoutMs, 90_000);
    assert.equal(c.maxFileBytes, 2048);
    assert.equal(c.sessionDurationMs, 90 * 60_000);
  });

  it('refuses --max-file-size= (empty), 0, negative and fractional sizes', () => {
    for (const v of ['--max-file-size=', '--max-file-size=0', '--max-file-size=-1', '--max-file-size=1.5']) assert.throws(() => cfg(v), UsageError, v);
  });

  it('refuses a zero or malformed hang timeout, pending timeout or session duration', () => {
    for (const v of ['--job-hang-timeout=0', '--job-hang-timeout=0s', '--job-pending-timeout=0m', '--session-duration=0', '--job-hang-timeout=', '--job-hang-timeout=5 minutes']) {
      assert.throws(() => cfg(v), UsageError, v);
    }
  });
});
