import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';

import type { Browser, BrowserContext, Page } from 'playwright-core';

import { KilnClient } from '../../src/sdk/client.js';
import type { WorkspaceBuild } from '../../src/sdk/types/workspaceBuilds.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';

import { launchChromium, screenshot } from './browser.js';

/**
 * The dashboard in a real browser against a real server with one built-in daemon: sign-up and sign-in, a build watched
 * live, stop and delete, a failed build, cancel, the list's live updates. Every wait is on something the page shows.
 */

/**
 * The little of the DOM the in-page checks use. Checks run as functions (not strings) because the dashboard's CSP
 * forbids eval; these types keep them checked without the DOM lib in the test tsconfig.
 */
interface PageElement {
  textContent: string | null;
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
  dataset: Record<string, string | undefined>;
}
interface PageDocument {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}
declare const document: PageDocument;

// Run inside the page (serialized by Playwright), so each is self-contained.
function logOverflows(): boolean {
  const s = document.querySelector('[data-testid=log-scroll]');
  return !!s && s.scrollHeight > s.clientHeight + 40;
}
function scrollTopOfLog(): number {
  return document.querySelector('[data-testid=log-scroll]')?.scrollTop ?? -1;
}
function atLogBottom(): boolean {
  const s = document.querySelector('[data-testid=log-scroll]');
  return !!s && s.scrollHeight - s.scrollTop - s.clientHeight < 30;
}

const OWNER = { username: 'admin', email: 'admin@example.com', password: 'a-long-password' };

const LIVE_LINES = 36;
/** A start script slow enough to watch: lines every 150 ms, the last ones in a stage of their own; a warning and an error-level line. */
const liveEcho = {
  start: {
    delay_ms: 150,
    logs: Array.from({ length: LIVE_LINES }, (_, i) => ({
      ...(i >= 20 ? { stage: 'Installing tools' } : {}),
      level: i === 8 ? 'warn' : i === 9 ? 'error' : 'info',
      output: i === 8 ? 'disk is 81% full' : i === 9 ? 'retrying a flaky mirror' : `step ${String(i + 1).padStart(2, '0')} of ${LIVE_LINES}`,
    })),
    resources: [
      {
        name: 'dev',
        type: 'echo_container',
        metadata: [{ key: 'image', value: 'debian:bookworm' }],
        agents: [{ name: 'main', operating_system: 'linux', architecture: 'amd64', apps: [{ slug: 'code', display_name: 'VS Code', url: 'http://localhost:8080' }] }],
      },
    ],
  },
  stop: { delay_ms: 50, logs: [{ output: 'stopping container dev' }] },
  delete: { delay_ms: 50, logs: [{ output: 'removing volume home' }] },
};
const FAILURE = 'terraform apply: exit status 1 (provider "docker" crashed)';
const failingEcho = { start: { logs: [{ output: 'resolving providers' }, { level: 'error', output: 'provider crashed' }], error: FAILURE } };
const hangingEcho = { start: { logs: [{ output: 'waiting for a lock forever' }], hang: true } };
const quickEcho = { start: { delay_ms: 300, logs: [{ output: 'one' }, { output: 'two' }, { output: 'three' }] } };

describe('dashboard', () => {
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let sdk: KilnClient;
  let orgId: string;
  const pageErrors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    srv = await startTestServer({ provisionerDaemons: 1 });
    context = await browser.newContext({ baseURL: srv.url, viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.close();
  });

  test('first-user setup signs in; sign out; sign in again through the login form', async () => {
    await page.goto('/');
    await page.waitForURL('**/setup');
    await page.getByLabel('Username').fill(OWNER.username);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create user and sign in' }).click();
    await page.getByRole('heading', { name: 'Workspaces' }).waitFor();
    assert.equal(await page.getByTestId('current-user').textContent(), OWNER.username);
    await page.getByTestId('empty-state').getByText('No workspaces yet').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    // Signed out means signed out: a deep link leads to the login form and, after it, back to the link.
    await page.goto('/templates');
    await page.waitForURL('**/login?redirect=%2Ftemplates');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('error-banner').getByText('HTTP 401').waitFor();
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/templates');
    await page.getByRole('heading', { name: 'Templates' }).waitFor();

    sdk = new KilnClient(srv.url);
    await sdk.login(OWNER.email, OWNER.password);
    const me = await sdk.me();
    orgId = me.organization_ids[0]!;
    assert.ok(orgId);
  });

  test('creates a workspace in the UI and watches its build live until it is running', async () => {
    await createEchoTemplate(sdk, orgId, liveEcho, { name: 'slow-start' });
    await page.goto('/workspaces');
    await page.getByRole('link', { name: 'New workspace' }).click();
    await page.getByRole('radio', { name: /slow-start/ }).check();
    await page.getByLabel('Workspace name').fill('devbox');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.waitForURL('**/@admin/devbox/builds/1');

    // Lines arrive while the build is still starting: checked in one evaluation, so both hold at the same moment.
    await page.waitForFunction((last) => {
      const lines = Array.from(document.querySelectorAll('[data-testid=log-line]'), (l) => l.textContent ?? '');
      const status = document.querySelector('[data-testid=build-status]')?.textContent;
      return status === 'starting' && lines.some((l) => l.includes('step 07')) && !lines.some((l) => l.includes(`step ${last} `));
    }, LIVE_LINES);
    await page.getByTestId('log-stream-state').getByText('Live').waitFor();

    // Level colours: the warning and the error line carry their level.
    await page.locator('.log-line.log-warn', { hasText: 'disk is 81% full' }).waitFor();
    await page.locator('.log-line.log-error', { hasText: 'retrying a flaky mirror' }).waitFor();
    await screenshot(page, 'build-page-live');

    // Auto-scroll follows the newest line until the user scrolls up; then it stays where the user is.
    const scroller = page.getByTestId('log-scroll');
    await page.waitForFunction(logOverflows);
    await scroller.and(page.locator('[data-following=true]')).waitFor();
    await scroller.hover();
    await page.mouse.wheel(0, -10_000);
    await scroller.and(page.locator('[data-following=false]')).waitFor();
    const countAtScroll = await page.getByTestId('log-line').count();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=log-line]').length > n, countAtScroll + 3);
    assert.equal(await page.evaluate(scrollTopOfLog), 0, 'the viewer stayed where the user scrolled to');
    await page.getByRole('button', { name: /Follow new lines/ }).click();
    await page.waitForFunction(atLogBottom);

    await page.getByTestId('build-status').getByText('running', { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByTestId('log-stream-state').getByText('End of log').waitFor();
    assert.equal(await page.getByTestId('log-line').count(), LIVE_LINES);

    // Grouped by stage, in order, each with a duration.
    const stages = await page.getByTestId('log-stage').evaluateAll((els) => els.map((e) => (e as unknown as PageElement).dataset.stage));
    assert.deepEqual(stages, ['Setting up', 'Starting workspace', 'Installing tools', 'Cleaning Up']);
    for (const d of await page.getByTestId('stage-duration').allTextContents()) assert.match(d, /^\d+(\.\d)?(ms|s)$|^\d+m \d+s$/);
    await page.locator('[data-stage="Starting workspace"] .log-stage-flag', { hasText: 'error' }).waitFor();

    // Download as text.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download log' }).click()]);
    assert.equal(download.suggestedFilename(), 'devbox-build-1.log');
    const text = await readFile((await download.path())!, 'utf8');
    assert.match(text, /INFO {2}\[Starting workspace\] step 01 of 36/);
    assert.match(text, /WARN {2}\[Starting workspace\] disk is 81% full/);

    // A reload of the build URL is the same page, now read from history.
    await page.reload();
    await page.getByTestId('build-status').getByText('running', { exact: true }).waitFor();
    await page.getByTestId('log-line').filter({ hasText: 'step 36 of 36' }).waitFor();
  });

  test('the workspace page shows resources, agents, apps and the build history', async () => {
    await page.getByRole('link', { name: 'admin/devbox' }).click();
    await page.waitForURL('**/@admin/devbox');
    await page.getByTestId('workspace-status').getByText('running').waitFor();
    await page.getByTestId('resources').getByText('echo_container').waitFor();
    await page.getByTestId('agent').getByText('main').waitFor();
    await page.getByTestId('app').getByText('VS Code').waitFor();
    const row = page.getByTestId('build-row').first();
    for (const cell of ['#1', 'start', 'admin', 'initiator', 'running']) await row.getByText(cell, { exact: true }).waitFor();
  });

  test('a failed build shows its error at the top of the build page', async () => {
    await createEchoTemplate(sdk, orgId, failingEcho, { name: 'broken-provider' });
    await page.goto('/workspaces/new?template=broken-provider');
    await page.getByLabel('Workspace name').fill('broken');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.waitForURL('**/@admin/broken/builds/1');
    const banner = page.getByTestId('build-error');
    await banner.getByText(FAILURE).waitFor({ timeout: 30_000 });
    await page.getByTestId('build-status').getByText('failed').waitFor();
    await page.locator('.log-line.log-error', { hasText: 'provider crashed' }).waitFor();
    const [bannerBox, logBox] = [await banner.boundingBox(), await page.getByTestId('log-scroll').boundingBox()];
    assert.ok(bannerBox && logBox && bannerBox.y < logBox.y, 'the error sits above the log');
    await screenshot(page, 'build-page-failed');

    // The workspace page says so too, with the error and a way to the log.
    await page.goto('/@admin/broken');
    await page.getByRole('alert').getByText(FAILURE).waitFor();
  });

  test('API errors are shown with their message and detail', async () => {
    await page.goto('/workspaces/new?template=slow-start');
    await page.getByLabel('Workspace name').fill('devbox');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    const banner = page.getByTestId('error-banner');
    await banner.getByText('Workspace "devbox" already exists.').waitFor();
    await banner.getByText('HTTP 409').waitFor();
    await banner.getByText('This value is already in use and should be unique.').waitFor();

    await page.goto('/@admin/no-such-workspace');
    await page.getByTestId('error-banner').getByText('HTTP 404').waitFor();
  });

  test('the workspaces list filters and follows builds live', async () => {
    await page.goto('/workspaces');
    await page.getByTestId('workspace-row').filter({ hasText: 'devbox' }).getByText('running').waitFor();
    await page.getByTestId('workspace-row').filter({ hasText: 'broken' }).getByText('failed').waitFor();

    // A workspace created elsewhere appears, and its status changes without a reload.
    const { template } = await createEchoTemplate(sdk, orgId, quickEcho, { name: 'quick' });
    await createWorkspace(sdk, orgId, template.id, 'from-cli');
    const fresh = page.getByTestId('workspace-row').filter({ hasText: 'from-cli' });
    await fresh.waitFor();
    await fresh.getByTestId('workspace-status').getByText('running').waitFor({ timeout: 30_000 });
    await screenshot(page, 'workspaces-list');

    await page.getByLabel('Filter workspaces').fill('broken');
    await page.waitForURL('**/workspaces?filter=broken');
    await page.getByTestId('workspace-row').filter({ hasText: 'devbox' }).waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('workspace-row').count(), 1);
    await page.reload();
    assert.equal(await page.getByLabel('Filter workspaces').inputValue(), 'broken');
    await page.getByTestId('workspace-row').filter({ hasText: 'broken' }).waitFor();
    await page.getByLabel('Filter workspaces').fill('nothing-like-this');
    await page.getByTestId('empty-state').getByText('No workspaces match this filter').waitFor();
  });

  test('stops and deletes a workspace, each after a confirmation', async () => {
    await page.goto('/@admin/devbox');
    await page.getByTestId('workspace-status').getByText('running').waitFor();
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Stop' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByTestId('workspace-status').getByText('stopped').waitFor({ timeout: 30_000 });
    await page.getByTestId('build-row').first().getByText('#2', { exact: true }).waitFor();

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const del = page.getByRole('dialog');
    const confirm = del.getByRole('button', { name: 'Delete workspace' });
    assert.equal(await confirm.isDisabled(), true, 'delete waits for the name');
    await del.getByLabel('Confirmation text').fill('devbox');
    await confirm.click();
    await del.waitFor({ state: 'detached' });
    await page.getByTestId('workspace-deleted').waitFor({ timeout: 30_000 });
    await page.getByTestId('build-row').first().getByText('delete', { exact: true }).waitFor();
    // The deleted workspace's builds stay readable by their links.
    await page.getByTestId('build-row').first().getByRole('link', { name: '#3' }).click();
    await page.waitForURL('**/@admin/devbox/builds/3');
    await page.getByTestId('build-status').getByText('deleted', { exact: true }).waitFor();
    await page.getByTestId('log-line').getByText('removing volume home').waitFor();

    await page.goto('/workspaces');
    await page.getByTestId('workspace-row').filter({ hasText: 'broken' }).waitFor();
    assert.equal(await page.getByTestId('workspace-row').filter({ hasText: 'devbox' }).count(), 0);
  });

  test('restart stops, then starts again, even when each build ends before its POST answers', async () => {
    // Echo builds end in milliseconds, so the workspace watch can report a build finished before the POST that created
    // it has answered. Hold each POST's answer until the page has shown the build's end, to make that order certain:
    // the page must not go back to the POST's older (pending) copy and wait forever.
    await page.route('**/api/v2/workspaces/*/builds', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const response = await route.fetch();
      const created = (await response.json()) as WorkspaceBuild;
      const done = await waitForBuild(sdk, created.id);
      await page.getByTestId('workspace-status').getByText(done.status, { exact: true }).waitFor();
      await page.getByTestId('build-row').first().getByText(`#${created.build_number}`, { exact: true }).waitFor();
      await route.fulfill({ response });
    });
    await page.goto('/@admin/from-cli');
    await page.getByTestId('workspace-status').getByText('running').waitFor();
    await page.getByRole('button', { name: 'Restart', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restart' }).click();
    const history = page.getByTestId('build-row');
    await history.first().getByText('#3', { exact: true }).waitFor({ timeout: 30_000 });
    await history.first().getByText('start', { exact: true }).waitFor();
    await history.nth(1).getByText('stop', { exact: true }).waitFor();
    await page.getByTestId('workspace-status').getByText('running').waitFor({ timeout: 30_000 });
    // The start POST's handler may still be holding its answer: wait for it, or its fulfil would meet no route.
    await page.unrouteAll({ behavior: 'wait' });
    await page.getByText('Restarting: stopping first, then starting.').waitFor({ state: 'detached' });
  });

  test('a queued build shows its place in the queue; cancel ends a build that would never finish', async () => {
    const { template } = await createEchoTemplate(sdk, orgId, hangingEcho, { name: 'hangs', allowUserCancel: true });
    const stuck = await createWorkspace(sdk, orgId, template.id, 'stuck');
    await page.goto('/@admin/stuck/builds/1');
    await page.getByTestId('log-line').getByText('waiting for a lock forever').waitFor({ timeout: 30_000 });

    // The only daemon is busy, so the next build waits: the provisioners page and its build page say where.
    const quick = await sdk.templateByName(orgId, 'quick');
    await createWorkspace(sdk, orgId, quick.id, 'queued');
    await page.goto('/provisioners');
    await page.getByTestId('daemons-table').getByText('busy').waitFor();
    const queued = page.getByTestId('pending-jobs').locator('tr', { hasText: 'admin/queued #1 start' });
    await queued.getByText(/^1( of \d+)?$/).waitFor();
    await screenshot(page, 'provisioners-queue');
    await queued.getByRole('link').click();
    await page.waitForURL('**/@admin/queued/builds/1');
    await page.getByTestId('build-pending').getByText(/position 1/).waitFor();

    await page.goto('/@admin/stuck/builds/1');
    await page.getByRole('button', { name: 'Cancel build' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel build' }).click();
    // The echo provisioner stops with the error "canceled"; by Coder's rule such a job reads as failed, and the page
    // says it was canceled.
    await page.getByTestId('build-canceled').getByText('Build canceled').waitFor({ timeout: 30_000 });
    await page.getByTestId('build-canceled').getByText('The provisioner stopped with: canceled').waitFor();
    const build = (await sdk.workspace(stuck.id)).latest_build;
    assert.ok(build.job.canceled_at, 'the job was canceled');
    await page.getByTestId('build-status').getByText(build.status, { exact: true }).waitFor();

    // With the daemon free again, the queued build runs.
    await page.goto('/@admin/queued/builds/1');
    await page.getByTestId('build-status').getByText('running', { exact: true }).waitFor({ timeout: 30_000 });
  });

  test('the templates, template and provisioners pages', async () => {
    await page.goto('/templates');
    await page.getByTestId('templates-table').getByRole('link', { name: 'slow-start' }).click();
    await page.waitForURL('**/templates/slow-start');
    const version = page.getByTestId('version').first();
    await version.getByText('active').waitFor();
    await version.getByText('succeeded').waitFor();
    await version.getByTestId('log-stage').first().waitFor();

    await page.goto('/provisioners');
    const daemons = page.getByTestId('daemons-table');
    await daemons.getByText('scope=organization').first().waitFor();
    assert.equal(await daemons.locator('tbody tr').count(), 1);
    await page.getByText('Nothing is waiting').waitFor();
    // The jobs section lists GET …/provisionerjobs, each with the daemon that ran it.
    const jobs = page.getByTestId('jobs-table');
    await jobs.getByText('succeeded').first().waitFor();
    assert.ok((await jobs.locator('tbody tr').count()) > 0);
  });

  test('no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
