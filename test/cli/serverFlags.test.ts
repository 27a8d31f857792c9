import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serverConfigFromArgs } from '../../src/cli/commands/server.js';
import { UsageError } from '../../src/cli/flags.js';

describe('kiln server: app flags', () => {
  const parse = (argv: string[]) => {
    const cfg = serverConfigFromArgs(argv, {});
    assert.ok(cfg !== 'help');
    return cfg;
  };

  it('--wildcard-access-url takes a wildcard host (a scheme or trailing slash is dropped); default from the address', () => {
    assert.equal(parse([]).wildcardAccessUrl, undefined);
    assert.equal(parse(['--wildcard-access-url', '*.apps.example.com']).wildcardAccessUrl, '*.apps.example.com');
    assert.equal(parse(['--wildcard-access-url', 'https://*.apps.example.com:8443/']).wildcardAccessUrl, '*.apps.example.com:8443');
    assert.throws(() => parse(['--wildcard-access-url', 'apps.example.com']), UsageError);
    assert.throws(() => parse(['--wildcard-access-url', '*.apps.example.com/path']), UsageError);
  });

  it('path apps are off unless --enable-path-apps', () => {
    assert.equal(parse([]).enablePathApps, false);
    assert.equal(parse(['--enable-path-apps']).enablePathApps, true);
  });

  it('--pty-idle-timeout and --pty-max-sessions set the terminal limits (default 5 min and 16)', () => {
    assert.deepEqual(parse([]).pty, { idleTimeoutMs: 5 * 60_000, maxSessions: 16 });
    assert.deepEqual(parse(['--pty-idle-timeout', '90s', '--pty-max-sessions', '4']).pty, { idleTimeoutMs: 90_000, maxSessions: 4 });
    assert.throws(() => parse(['--pty-idle-timeout', '0s']), UsageError);
    assert.throws(() => parse(['--pty-max-sessions', '0']), UsageError);
  });
});
