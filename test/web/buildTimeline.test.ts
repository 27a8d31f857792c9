import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Browser, BrowserContext, Page } from 'playwright-core';

import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';

import { assertBrowserTestPrerequisites, launchChromium } from './browser.js';

/** The build page shows the build's timeline from `GET /workspacebuilds/{id}/timings`, in a real browser. */
describe('build timeline', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    assertBrowserTestPrerequisites();
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    browser = await launchChromium();
    context = await browser.newContext({ baseURL: srv.url });
    await context.addCookies([{ name: 'coder_session_token', value: owner.client.token as string, url: srv.url }]);
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.close();
  });

  test('a finished build shows one bar per provisioner stage, matching the timings endpoint', async () => {
    const echo = { start: { delay_ms: 100, logs: [{ output: 'one' }, { output: 'two' }] } };
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, echo);
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id, 'timed');
    const build = await waitForBuild(owner.client, ws.latest_build.id, ['running']);

    const timings = await owner.client.workspaceBuildTimings(build.id);
    assert.deepEqual(
      timings.provisioner_timings.map((t) => [t.stage, t.resource]),
      [
        ['init', 'Setting up'],
        ['apply', 'Starting workspace'],
      ],
    );
    for (const t of timings.provisioner_timings) assert.ok(Date.parse(t.ended_at) >= Date.parse(t.started_at));
    assert.deepEqual(timings.agent_script_timings, []);

    await page.goto(`/@${owner.username}/timed/builds/1`);
    const timeline = page.getByTestId('build-timeline');
    await timeline.waitFor();
    const rows = timeline.getByTestId('timing-row');
    assert.equal(await rows.count(), timings.provisioner_timings.length);
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { stage?: string } }).dataset.stage)), ['init', 'apply']);
    await timeline.getByText('Starting workspace').waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
