// `kiln server --dev`: an admin, the example template and a token, so `kiln login` is one paste away.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { serverConfigFromArgs } from '../../src/cli/commands/server.js';
import { setupDevEnvironment } from '../../src/cli/commands/serverDev.js';
import { createLogger } from '../../src/lib/logger.js';
import { KilnClient } from '../../src/sdk/client.js';
import { startTestServer, type TestServer } from '../harness/server.js';

import { runCli } from './cliHarness.js';

describe('kiln server --dev', () => {
  let server: TestServer;
  const logger = createLogger('silent');

  before(async () => {
    server = await startTestServer({ provisionerDaemons: 1 });
  });
  after(() => server.close());

  it('--dev is a server flag', () => {
    const cfg = serverConfigFromArgs(['--dev'], {});
    assert.ok(cfg !== 'help' && cfg.dev === true);
    const plain = serverConfigFromArgs([], {});
    assert.ok(plain !== 'help' && !plain.dev);
  });

  it('on a server without users: creates the admin and the echo template, prints URL, credentials and token', async () => {
    const printed: string[] = [];
    const dev = await setupDevEnvironment(server.url, logger, (l) => printed.push(l));
    assert.ok(dev?.credentials && dev.token);
    assert.deepEqual(dev.templates, ['echo']);
    const text = printed.join('\n');
    for (const part of [server.url, dev.credentials.email, dev.credentials.username, dev.credentials.password, dev.token]) assert.ok(text.includes(part), `prints ${part}`);
    assert.ok(text.includes(`kiln login ${server.url} --token ${dev.token}`));
    // The password works, and the printed login line works as pasted.
    await new KilnClient(server.url).login(dev.credentials.email, dev.credentials.password);
    const env = { HOME: '/nonexistent', XDG_CONFIG_HOME: `${server.dataDir}/cli-config` };
    assert.equal((await runCli(['login', server.url, '--token', dev.token], { env })).code, 0);
    const created = await runCli(['create', 'first', '-t', 'echo'], { env });
    assert.equal(created.code, 0, created.stderr);
    assert.match((await runCli(['whoami'], { env })).stdout, /^You are admin <admin@example\.com> .*\(owner\)/);
  });

  it('on a later start it creates nothing and says how to log in', async () => {
    const printed: string[] = [];
    const dev = await setupDevEnvironment(server.url, logger, (l) => printed.push(l));
    assert.deepEqual(dev, { templates: [] });
    assert.deepEqual(printed, [`dev: the server has users already; log in with: kiln login ${server.url}`]);
  });

  it('an unreachable server is logged, not thrown: kiln server keeps running', async () => {
    const dev = await setupDevEnvironment('http://127.0.0.1:9', logger, () => {});
    assert.equal(dev, undefined);
  });
});
