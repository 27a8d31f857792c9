import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Browser, BrowserContext, Page } from 'playwright-core';

import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, waitForBuild } from '../harness/templates.js';

import { launchChromium, screenshot } from './browser.js';

/** The create form renders each rich parameter by type, checks values before sending, and the workspace page changes mutable ones. */
const ECHO = {
  start: { echo_parameters: true },
  stop: {},
  parameters: [
    { name: 'region', display_name: 'Region', options: [{ name: 'Europe', value: 'eu' }, { name: 'United States', value: 'us' }] },
    { name: 'cpus', display_name: 'CPUs', type: 'number', mutable: true, default_value: '4', validation_min: 2, validation_max: 8 },
    { name: 'gpu', display_name: 'GPU', description: 'Attach a GPU', type: 'bool', mutable: true, default_value: 'false' },
  ],
};

describe('dashboard: rich parameters', () => {
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let owner: TestUser & { organizationId: string };

  before(async () => {
    browser = await launchChromium();
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    await createEchoTemplate(owner.client, owner.organizationId, ECHO, { name: 'sized' });
    context = await browser.newContext({ baseURL: srv.url, viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: 'coder_session_token', value: owner.client.token as string, url: srv.url }]);
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.close();
  });

  test('a select, a number with min/max (the error shown), a bool; the build gets the values', async () => {
    await page.goto('/workspaces/new?template=sized');
    await page.getByLabel('Workspace name').fill('sized-1');
    const params = page.getByTestId('rich-parameters');
    await params.getByLabel(/Region/).waitFor();
    // Nothing chosen for a required select, and a number above the maximum: both refused before anything is sent.
    await params.getByLabel(/CPUs/).fill('12');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByTestId('problem-cpus').getByText('value 12 is more than the maximum 8').waitFor();
    await page.getByTestId('problem-region').getByText('A value is required.').waitFor();
    await screenshot(page, 'create-parameters-refused');
    assert.equal((await owner.client.workspaces()).count, 0, 'nothing was created');

    await params.getByLabel(/Region/).selectOption('us');
    await params.getByLabel(/CPUs/).fill('6');
    await params.getByLabel('Attach a GPU').check();
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.waitForURL('**/@' + owner.username + '/sized-1/builds/1');
    const ws = await owner.client.workspaceByOwnerAndName('me', 'sized-1');
    const b = await waitForBuild(owner.client, ws.latest_build.id);
    assert.deepEqual(await owner.client.workspaceBuildParameters(b.id), [
      { name: 'cpus', value: '6' },
      { name: 'gpu', value: 'true' },
      { name: 'region', value: 'us' },
    ]);
  });

  test('the workspace page shows the values and starts a new build with a changed mutable one', async () => {
    await page.goto(`/@${owner.username}/sized-1`);
    const card = page.getByTestId('workspace-parameters');
    await card.locator('[data-param-value=cpus]').getByText('6').waitFor();
    await card.locator('[data-param-value=region]').getByText('us').waitFor();
    await card.getByRole('button', { name: 'Change parameters' }).click();
    assert.equal(await card.getByLabel(/Region/).count(), 0, 'an immutable parameter is not offered');
    await card.getByLabel(/CPUs/).fill('1');
    await card.getByRole('button', { name: 'Start with these values' }).click();
    await card.getByTestId('problem-cpus').getByText('value 1 is less than the minimum 2').waitFor();
    await card.getByLabel(/CPUs/).fill('8');
    await card.getByRole('button', { name: 'Start with these values' }).click();
    await card.locator('[data-param-value=cpus]').getByText('8').waitFor({ timeout: 30_000 });
    const ws = await owner.client.workspaceByOwnerAndName('me', 'sized-1');
    assert.equal(ws.latest_build.build_number, 2);
    assert.equal((await owner.client.workspaceBuildParameters(ws.latest_build.id)).find((p) => p.name === 'cpus')?.value, '8');
    await screenshot(page, 'workspace-parameters');
  });
});
