import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import type { Browser, BrowserContext, Page } from 'playwright-core';

import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createWorkspace, waitForBuild } from '../harness/templates.js';

import { launchChromium } from './browser.js';

/**
 * Cross-site request forgery in a real browser. The owner is signed in to kiln (a session cookie for 127.0.0.1); a page
 * served from another port of 127.0.0.1 (the same site, so `SameSite=Lax` sends the cookie) tries what a hostile page
 * would: create an owner with a `no-cors` POST, delete a workspace, read a build log through a cookie-only WebSocket.
 * Every attempt must fail with 403 from kiln, while the same calls from kiln's own origin work.
 */

interface Attempts {
  createUser: string;
  deleteWorkspace: string;
  ws: { messages: number; opened: boolean };
}

// Run inside the hostile page (serialized by Playwright).
async function attack(a: { kiln: string; workspaceId: string; buildId: string }): Promise<Attempts> {
  const post = (path: string, body: unknown) =>
    fetch(a.kiln + path, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body) })
      .then((r) => r.type)
      .catch((e: Error) => `error: ${e.message}`);
  const createUser = await post('/api/v2/users', { email: 'evil@example.com', username: 'evil', password: 'evil-password', roles: ['owner'] });
  const deleteWorkspace = await post(`/api/v2/workspaces/${a.workspaceId}/builds`, { transition: 'delete' });
  const ws = await new Promise<{ messages: number; opened: boolean }>((resolve) => {
    const s = new WebSocket(a.kiln.replace('http', 'ws') + `/api/v2/workspacebuilds/${a.buildId}/logs?follow=true`);
    let messages = 0;
    let opened = false;
    s.onopen = () => (opened = true);
    s.onmessage = () => messages++;
    s.onclose = () => resolve({ messages, opened });
  });
  return { createUser, deleteWorkspace, ws };
}

// Run inside kiln's own page: the same calls, same cookie, own origin.
async function ownOriginCalls(a: { workspaceId: string; buildId: string }): Promise<{ create: number; logs: number }> {
  const create = await fetch('/api/v2/users', {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'friend@example.com', username: 'friend', password: 'friend-password' }),
  }).then((r) => r.status);
  const logs = await new Promise<number>((resolve) => {
    const s = new WebSocket(location.origin.replace('http', 'ws') + `/api/v2/workspacebuilds/${a.buildId}/logs?follow=true`);
    let n = 0;
    s.onmessage = () => n++;
    s.onclose = () => resolve(n);
  });
  return { create, logs };
}

declare const location: { origin: string };

describe('CSRF in Chromium', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let hostile: http.Server;
  let hostileUrl: string;
  let workspaceId: string;
  let buildId: string;
  const statuses = new Map<string, number>();

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    const { template } = await createEchoTemplate(owner.client, owner.organizationId, { start: { logs: [{ output: 'private build output' }] } });
    const ws = await createWorkspace(owner.client, owner.organizationId, template.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    workspaceId = ws.id;
    buildId = ws.latest_build.id;
    hostile = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>not kiln</title><p>hello</p>'));
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', () => r()));
    hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    browser = await launchChromium();
    context = await browser.newContext();
    // The test's TypeScript is compiled with esbuild's keepNames, which wraps inner named functions in __name().
    await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('response', (r) => statuses.set(`${r.request().method()} ${new URL(r.url()).pathname}`, r.status()));
    // The owner signs in through the dashboard: the browser holds kiln's session cookie.
    await page.goto(`${srv.url}/login`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workspaces' }).waitFor();
    const cookies = await context.cookies(srv.url);
    assert.ok(cookies.some((c) => c.name === 'coder_session_token'), 'the browser holds the session cookie');
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await new Promise((r) => hostile?.close(r));
    await srv?.close();
  });

  test('a page on another port cannot create a user, delete a workspace or read a log with the cookie', async () => {
    await page.goto(hostileUrl);
    const got = await page.evaluate(attack, { kiln: srv.url, workspaceId, buildId });
    assert.equal(got.createUser, 'opaque', 'the no-cors request was sent');
    // The browser sent them with the cookie: kiln answered 403 (not 401) to each.
    assert.equal(statuses.get('POST /api/v2/users'), 403);
    assert.equal(statuses.get(`POST /api/v2/workspaces/${workspaceId}/builds`), 403);
    assert.deepEqual(got.ws, { messages: 0, opened: false }, 'the WebSocket never opened and read nothing');

    assert.equal((await srv.client.withToken(owner.client.token as string).http.json('GET', '/api/v2/users/evil').catch((e: { status: number }) => e.status)), 400, 'no user "evil"');
    const w = await owner.client.workspace(workspaceId);
    assert.equal(w.latest_build.id, buildId, 'no delete build');
    assert.equal(w.latest_build.transition, 'start');
  });

  test('the same calls from kiln\'s own origin work', async () => {
    await page.goto(`${srv.url}/workspaces`);
    const got = await page.evaluate(ownOriginCalls, { workspaceId, buildId });
    assert.equal(got.create, 201);
    assert.ok(got.logs > 0, 'the own-origin follow read the log');
  });
});
