// kiln login / logout / whoami and where the session lives.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { KilnClient } from '../../src/sdk/client.js';
import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

import { runCli, spawnCli, spawnCliInTerminal } from './cliHarness.js';

describe('kiln login, logout, whoami', () => {
  let server: TestServer;
  let tmp: string;
  let n = 0;
  /** A fresh, empty home for each test: nobody's session leaks into the next. */
  const home = () => {
    const h = path.join(tmp, `home${++n}`);
    return { HOME: h, XDG_CONFIG_HOME: path.join(h, 'xdg') };
  };

  before(async () => {
    server = await startTestServer({ provisionerDaemons: 0 });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-session-'));
  });
  after(async () => {
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('on a server without users, login needs the --first-user-* flags when there is no terminal (exit 2)', async () => {
    const r = await runCli(['login', server.url], { env: home() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no users yet: pass --first-user-email, --first-user-username and --first-user-password/);
  });

  it('creates the first user and saves the session with mode 0600 under $XDG_CONFIG_HOME/kiln', async () => {
    const env = home();
    const r = await runCli(['login', server.url, '--first-user-email', 'root@example.com', '--first-user-username', 'root', '--first-user-password', 'root-password'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created the first user, root/);
    const file = path.join(env.XDG_CONFIG_HOME, 'kiln', 'session.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'the session file is readable by its owner only');
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { url: string; token: string };
    assert.equal(saved.url, server.url);
    assert.equal((await new KilnClient(server.url, { token: saved.token }).me()).username, 'root');
    const who = await runCli(['whoami'], { env });
    assert.equal(who.code, 0);
    assert.equal(who.stdout, `You are root <root@example.com> on ${server.url} (owner).\n`);
  });

  it('without XDG_CONFIG_HOME the session goes to ~/.config/kiln/session.json', async () => {
    const env = { HOME: home().HOME };
    const r = await runCli(['login', server.url, '--email', 'root@example.com', '--password', 'root-password'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(path.join(env.HOME, '.config', 'kiln', 'session.json'))).mode & 0o777, 0o600);
  });

  it('logs in with email and password (flags or KILN_EMAIL/KILN_PASSWORD) and with --token', async () => {
    const owner = new KilnClient(server.url);
    await owner.login('root@example.com', 'root-password');
    await owner.createUser({ email: 'dev@example.com', username: 'dev', password: 'dev-password' });
    const env = { ...home(), KILN_EMAIL: 'dev@example.com', KILN_PASSWORD: 'dev-password' };
    assert.equal((await runCli(['login', server.url], { env })).code, 0);
    assert.match((await runCli(['whoami'], { env })).stdout, /^You are dev <dev@example.com>.*\(member\)\.\n$/);

    const env2 = home();
    const r = await runCli(['login', server.url, '--token', owner.token as string], { env: env2 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Logged in to ${server.url} as root.\n`);
    const json = await runCli(['whoami', '-o', 'json'], { env: env2 });
    assert.deepEqual(JSON.parse(json.stdout), { url: server.url, username: 'root', email: 'root@example.com', roles: ['owner'] });
  });

  it('a wrong password or token prints the server\'s message and exits 1', async () => {
    const r = await runCli(['login', server.url, '--email', 'root@example.com', '--password', 'nope'], { env: home() });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'kiln login: Incorrect email or password.\nYour session is missing or has expired: run "kiln login".\n');
    const t = await runCli(['login', server.url, '--token', 'aaaaaaaaaa-bbbbbbbbbbbbbbbbbbbbbbbb'], { env: home() });
    assert.equal(t.code, 1);
    assert.match(t.stderr, /^kiln login: the server did not accept the token\./);
    assert.doesNotMatch(r.stderr + t.stderr, /\n\s+at /, 'no stack trace');
  });

  it('an unreachable server is named, not dumped as a stack trace', async () => {
    const port = await closedPort();
    const r = await runCli(['login', `http://127.0.0.1:${port}`, '--token', 'x'], { env: home() });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `kiln login: could not reach the kiln server at 127.0.0.1:${port}: ECONNREFUSED\n`);
  });

  it('KILN_URL and KILN_SESSION_TOKEN override the saved session', async () => {
    const env = home();
    assert.equal((await runCli(['login', server.url, '--email', 'dev@example.com', '--password', 'dev-password'], { env })).code, 0);
    const root = new KilnClient(server.url);
    await root.login('root@example.com', 'root-password');
    const who = await runCli(['whoami'], { env: { ...env, KILN_SESSION_TOKEN: root.token } });
    assert.match(who.stdout, /^You are root /);
    // Another server in KILN_URL: the saved token (for this server) is not sent there.
    const other = await runCli(['whoami'], { env: { ...env, KILN_URL: 'http://127.0.0.1:1' } });
    assert.equal(other.code, 1);
    assert.match(other.stderr, /you are not logged in/);
    // The same server spelled with a trailing slash still uses the saved token.
    assert.match((await runCli(['whoami'], { env: { ...env, KILN_URL: `${server.url}/` } })).stdout, /^You are dev /);
  });

  it('logout expires the token on the server and removes the session file', async () => {
    const env = home();
    await runCli(['login', server.url, '--email', 'dev@example.com', '--password', 'dev-password'], { env });
    const file = path.join(env.XDG_CONFIG_HOME, 'kiln', 'session.json');
    const { token } = JSON.parse(await readFile(file, 'utf8')) as { token: string };
    const r = await runCli(['logout'], { env });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `Logged out of ${server.url}.\n`);
    await assert.rejects(stat(file), { code: 'ENOENT' });
    await expectApiError(new KilnClient(server.url, { token }).me(), 401);
    const again = await runCli(['logout'], { env });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'kiln logout: you are not logged in.\n');
    // An expired token in the environment: the server's 401 plus what to do.
    const stale = await runCli(['list'], { env: { ...env, KILN_URL: server.url, KILN_SESSION_TOKEN: token } });
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /run "kiln login"/);
  });

  it('at a terminal, login asks for the first user\'s details, without echoing the password', async () => {
    const fresh = await startTestServer({ provisionerDaemons: 0 });
    try {
      const env = home();
      const run = spawnCliInTerminal(['login', fresh.url], env);
      const answer = async (prompt: string, text: string) => {
        await waitFor(() => run.output.text.includes(prompt), `the prompt ${JSON.stringify(prompt)}`);
        const before = run.output.text.length;
        run.child.stdin.write(text);
        return before;
      };
      await answer('Email:', 'tty@example.com\r');
      await answer('Username (tty):', '\r');
      const typedFrom = await answer('Password:', 'secret-pass\r');
      await answer('Confirm password:', 'secret-pass\r');
      assert.equal(await run.exit, 0, run.output.text);
      assert.match(run.output.text, /no users yet/);
      assert.ok(!run.output.text.slice(typedFrom).includes('secret-pass'), 'the password is not echoed');
      assert.match(run.output.text, /Created the first user, tty, who owns this server\.\r?\nLogged in to /);
      assert.match((await runCli(['whoami'], { env })).stdout, /^You are tty <tty@example\.com>/);
    } finally {
      await fresh.close();
    }
  });

  it('the real binary: --version, and whoami from the environment', async () => {
    const v = spawnCli(['--version'], {});
    assert.equal(await v.exit, 0);
    assert.match(v.stdout.text, /^kiln \d+\.\d+\.\d+/);
    const root = new KilnClient(server.url);
    await root.login('root@example.com', 'root-password');
    const w = spawnCli(['whoami'], { ...home(), KILN_URL: server.url, KILN_SESSION_TOKEN: root.token });
    assert.equal(await w.exit, 0, w.stderr.text);
    assert.match(w.stdout.text, /^You are root /);
    const bad = spawnCli(['list', '--bogus'], home());
    assert.equal(await bad.exit, 2);
  });
});

/** A port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
