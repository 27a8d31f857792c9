import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's chromium driven by playwright-core (no browser download: `npx playwright install` cannot work here). The
 * flags keep it off the network: without them it dials Google's hosts at every start.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS_DIR = path.join(ROOT, 'test-results');
export const WEB_INDEX = path.join(ROOT, 'dist', 'web', 'index.html');

/** Fails, loudly, when what the browser tests need is missing: they never skip. */
export function assertBrowserTestPrerequisites(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard's browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs it).`);
  }
  assertDashboardBuilt();
}

export function assertDashboardBuilt(): void {
  if (!existsSync(WEB_INDEX)) throw new Error(`${WEB_INDEX} is missing: run \`npm run build\` before the dashboard tests.`);
}

export async function launchChromium(): Promise<Browser> {
  assertBrowserTestPrerequisites();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
