import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Browser } from 'playwright-core';

import { findBwrap } from '../../src/provisioners/local/sandbox.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { createHeaderEchoWorkspace } from '../harness/apps.js';
import { killAll } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';

import { launchChromium } from './browser.js';

/** Run inside the app's page (serialized by Playwright). */
declare const document: { cookie: string; body: { innerText: string } };
const pageCookies = () => document.cookie;
const pageText = () => document.body.innerText;

/**
 * A workspace app opened from the dashboard in a real browser: it opens on its own subdomain (Chromium resolves
 * *.localhost to loopback), through the auth redirect, and neither the page nor the app ever holds kiln's session.
 */
describe('dashboard: workspace apps on their own origin', () => {
  let srv: TestServer;
  let browser: Browser;
  let owner: TestUser & { organizationId: string };
  let other: TestUser;
  let ws: Workspace;

  before(async () => {
    assert.ok(await findBwrap(), 'bwrap is required for these tests: apt-get install -y bubblewrap');
    browser = await launchChromium();
    srv = await startTestServer({ provisionerDaemons: 1, overrides: { agentConnectionUpdateMs: 500 } });
    owner = await srv.createFirstUser();
    other = await srv.createUser(owner.client);
    ws = await createHeaderEchoWorkspace(owner.client, owner.organizationId);
  });
  after(async () => {
    await browser?.close();
    if (srv) await killAll(`KILN_AGENT_URL=${srv.url}`);
    await srv?.close();
  });

  async function signedIn(user: TestUser) {
    const context = await browser.newContext({ baseURL: srv.url });
    await context.addCookies([{ name: 'coder_session_token', value: user.client.token as string, url: srv.url }]);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return { context, page };
  }

  test("the app link opens the app on its subdomain; neither the page nor the app sees kiln's session", async () => {
    const { context, page } = await signedIn(owner);
    try {
      await page.goto(`/@${owner.username}/${ws.name}`);
      const link = page.getByTestId('app-link');
      await link.waitFor();
      const href = (await link.getAttribute('href')) as string;
      const port = new URL(srv.url).port;
      assert.equal(href, `http://web--main--${ws.name}--${owner.username}.apps.localhost:${port}/`.toLowerCase());

      const [app] = await Promise.all([context.waitForEvent('page'), link.click()]);
      await app.waitForURL(href);
      await app.waitForFunction(() => document.body.innerText.includes('greeting'));
      const seen = JSON.parse(await app.evaluate(pageText)) as { greeting: string; url: string; headers: Record<string, string> };
      assert.equal(seen.greeting, `hello from ${ws.name}`);
      assert.equal(seen.url, '/');

      const token = owner.client.token as string;
      const secret = token.split('-')[1] as string;
      const cookies = await app.evaluate(pageCookies);
      assert.ok(!cookies.includes(secret) && !cookies.includes('coder_session_token'), `document.cookie: ${cookies}`);
      assert.ok(!JSON.stringify(seen.headers).includes(secret), 'the app received part of the session token');
      assert.equal(seen.headers['coder-session-token'], undefined);
      // The app's origin holds only its own app token, and the browser keeps it away from scripts.
      const appCookies = await context.cookies(href);
      assert.deepEqual(appCookies.map((c) => c.name).sort(), ['app_cookie', 'coder_subdomain_app_session_token']);
      assert.ok(appCookies.every((c) => c.value !== token));
      assert.equal(appCookies.find((c) => c.name === 'coder_subdomain_app_session_token')?.httpOnly, true);
    } finally {
      await context.close();
    }
  });

  test('a signed-out browser opening an app URL signs in on the dashboard and lands on the app', async () => {
    const context = await browser.newContext({ baseURL: srv.url });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      const href = `http://web--main--${ws.name}--${owner.username}.apps.localhost:${new URL(srv.url).port}/deep?x=1`.toLowerCase();
      await page.goto(href);
      await page.waitForURL('**/login?redirect=**');
      await page.getByLabel('Email').fill(owner.email);
      await page.getByLabel('Password').fill(owner.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(href);
      const seen = JSON.parse(await page.evaluate(pageText)) as { greeting: string; url: string; headers: Record<string, string> };
      assert.equal(seen.greeting, `hello from ${ws.name}`);
      assert.equal(seen.url, '/deep?x=1');
      assert.ok(!(seen.headers.cookie ?? '').includes('coder_'), `the app saw ${seen.headers.cookie}`);
    } finally {
      await context.close();
    }
  });

  test("another user is refused the owner's app", async () => {
    const { context, page } = await signedIn(other);
    try {
      const href = `http://web--main--${ws.name}--${owner.username}.apps.localhost:${new URL(srv.url).port}/`.toLowerCase();
      const res = await page.goto(href);
      assert.equal(res?.status(), 404);
      assert.equal(new URL(page.url()).origin, srv.url, 'the refusal comes from the dashboard origin, which never redirected back');
      const text = await page.evaluate(pageText);
      assert.match(text, /Resource not found/);
      assert.doesNotMatch(text, /greeting/);
      assert.deepEqual(await context.cookies(href), []);
    } finally {
      await context.close();
    }
  });
});
