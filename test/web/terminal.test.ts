import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { findBwrap } from '../../src/provisioners/local/sandbox.js';
import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { createLocalTemplate, killAll, latestAgent } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

import { launchChromium } from './browser.js';

/** The terminal's text as xterm.js renders it (its DOM renderer: one row per line). */
async function screen(page: Page): Promise<string> {
  return page.locator('.xterm-rows').innerText();
}

/** The dashboard's terminal page on a real workspace, in Chromium. */
describe('dashboard: terminal', () => {
  let srv: TestServer;
  let browser: Browser;
  let owner: TestUser & { organizationId: string };
  let ws: Workspace;

  before(async () => {
    assert.ok(await findBwrap(), 'bwrap is required for these tests: apt-get install -y bubblewrap');
    browser = await launchChromium();
    srv = await startTestServer({ provisionerDaemons: 1, overrides: { agentConnectionUpdateMs: 500 } });
    owner = await srv.createFirstUser();
    const { template } = await createLocalTemplate(owner.client, owner.organizationId, { agents: [{ name: 'main', directory: '~', startup_script: 'true' }] });
    ws = await owner.client.createWorkspace(owner.organizationId, 'me', { template_id: template.id, name: `term-${randomUUID().slice(0, 8)}` });
    assert.equal((await waitForBuild(owner.client, ws.latest_build.id, undefined, 30_000)).job.status, 'succeeded');
    await waitFor(async () => ((await latestAgent(owner.client, ws.id)).status === 'connected' ? true : undefined), 'agent connected', 20_000);
  });
  after(async () => {
    await browser?.close();
    if (srv) await killAll(`KILN_AGENT_URL=${srv.url}`);
    await srv?.close();
  });

  test('the Terminal button opens a shell; its output survives a reload; it follows the window size', async () => {
    const context = await browser.newContext({ baseURL: srv.url, viewport: { width: 1200, height: 800 } });
    await context.addCookies([{ name: 'coder_session_token', value: owner.client.token as string, url: srv.url }]);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(`/@${owner.username}/${ws.name}`);
      await page.getByTestId('terminal-link').click();
      await page.waitForURL(new RegExp(`/@${owner.username}/${ws.name}\\.main/terminal\\?reconnect=[0-9a-f-]{36}$`));
      const url = page.url();
      await page.locator('[data-testid=terminal-status][data-status=connected]').waitFor();
      await page.locator('.xterm-helper-textarea').focus();
      await page.keyboard.type('echo hello-$((6*7))');
      await page.keyboard.press('Enter');
      await waitFor(async () => ((await screen(page)).includes('hello-42') ? true : undefined), 'hello-42 on the screen');

      await page.reload();
      assert.equal(page.url(), url, 'the reload keeps the terminal id');
      await page.locator('[data-testid=terminal-status][data-status=connected]').waitFor();
      // The same shell's recent output is replayed.
      await waitFor(async () => ((await screen(page)).includes('hello-42') ? true : undefined), 'the earlier output after the reload');

      let n = 0;
      const size = async () => {
        const mark = `size-${++n}`;
        await page.locator('.xterm-helper-textarea').focus();
        await page.keyboard.type(`clear; echo ${mark}: $(stty size)`);
        await page.keyboard.press('Enter');
        return waitFor(async () => new RegExp(`^${mark}: (\\d+) (\\d+)$`, 'm').exec(await screen(page))?.slice(1).map(Number), 'stty size');
      };
      const [rows1, cols1] = (await size()) as number[];
      await page.setViewportSize({ width: 800, height: 600 });
      await waitFor(async () => {
        const [rows2, cols2] = (await size()) as number[];
        return (rows2 as number) < (rows1 as number) && (cols2 as number) < (cols1 as number) ? true : undefined;
      }, 'a smaller terminal after the window shrank');
    } finally {
      await context.close();
    }
  });

  test('a stopped workspace shows no Terminal button and the page says why', async () => {
    const stop = await owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    assert.equal((await waitForBuild(owner.client, stop.id, undefined, 30_000)).job.status, 'succeeded');
    const context = await browser.newContext({ baseURL: srv.url });
    await context.addCookies([{ name: 'coder_session_token', value: owner.client.token as string, url: srv.url }]);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(`/@${owner.username}/${ws.name}`);
      await page.getByTestId('workspace-status').waitFor();
      assert.equal(await page.getByTestId('terminal-link').count(), 0);
      await page.goto(`/@${owner.username}/${ws.name}.main/terminal`);
      await page.getByTestId('terminal-not-running').waitFor();
      assert.match(await page.getByTestId('terminal-not-running').innerText(), /stopped/);
    } finally {
      await context.close();
    }
  });
});
