import { randomBytes } from 'node:crypto';

import type { Logger } from '../../lib/logger.js';
import { KilnClient } from '../../sdk/client.js';
import { isSdkError } from '../../sdk/errors.js';
import { createTar } from '../../sdk/tar.js';
import { echoExample } from '../templateExamples.js';

export const DEV_ADMIN = { email: 'admin@example.com', username: 'admin' };
/** The example templates a dev server gets, by name. */
export const DEV_TEMPLATES = ['echo'];
const IMPORT_WAIT_MS = 30_000;

export interface DevEnvironment {
  /** Present only when this call created the admin: a password is never stored, so it can be shown only once. */
  credentials?: { email: string; username: string; password: string };
  token?: string;
  templates: string[];
}

/**
 * `kiln server --dev`: on a server without users, creates an admin with a random password and the example echo
 * template, through the API like any client, then prints the URL, the credentials and a token so `kiln login` is one
 * paste away. On later starts the admin exists; its password was shown on the first start and is not known here.
 */
export async function setupDevEnvironment(url: string, logger: Logger, print: (line: string) => void = (l) => console.log(l)): Promise<DevEnvironment | undefined> {
  try {
    return await setup(url, logger, print);
  } catch (e) {
    // The server runs on without the dev setup; it must not die (or linger half-closed) because of it.
    logger.error({ err: e instanceof Error ? e.message : String(e) }, 'dev: setting up the admin user and example templates failed');
    return undefined;
  }
}

async function setup(url: string, logger: Logger, print: (line: string) => void): Promise<DevEnvironment> {
  const client = new KilnClient(url);
  if (await client.hasFirstUser()) {
    print(`dev: the server has users already; log in with: kiln login ${url}`);
    return { templates: [] };
  }
  const password = randomBytes(12).toString('base64url');
  const { organization_id: orgId } = await client.createFirstUser({ ...DEV_ADMIN, password });
  await client.login(DEV_ADMIN.email, password);
  // An API key, unlike the login session, does not expire with --session-duration.
  const { key } = await client.createAPIKey('me');
  const templates: string[] = [];
  for (const name of DEV_TEMPLATES) {
    try {
      await createExampleTemplate(client, orgId, name);
      templates.push(name);
    } catch (e) {
      // The server is still useful without the example; say why it is missing.
      logger.warn({ template: name, err: isSdkError(e) ? e.message : String(e) }, 'dev: could not create the example template');
    }
  }
  print('');
  print(`dev: created the admin user and ${templates.length ? `the example template${templates.length > 1 ? 's' : ''} ${templates.join(', ')}` : 'no example template'}.`);
  print(`  URL:      ${url}`);
  print(`  email:    ${DEV_ADMIN.email}`);
  print(`  username: ${DEV_ADMIN.username}`);
  print(`  password: ${password}   (shown once)`);
  print(`  token:    ${key}`);
  print('');
  print(`  kiln login ${url} --token ${key}`);
  print(`  kiln create my-workspace -t ${templates[0] ?? '<template>'}`);
  print('');
  return { credentials: { ...DEV_ADMIN, password }, token: key, templates };
}

/** Uploads the echo example, waits for its import (the server's built-in daemons run it), creates the template. */
async function createExampleTemplate(client: KilnClient, orgId: string, name: string): Promise<void> {
  const { hash } = await client.upload(createTar({ 'echo.json': JSON.stringify(echoExample(), null, 2) }));
  const version = await client.createTemplateVersion(orgId, { storage_method: 'file', file_id: hash, provisioner: 'echo' });
  // The log stream closes when the import ends: no polling. Without a daemon (--provisioner-daemons 0) it never
  // would, so the wait is bounded and the server starts anyway.
  for await (const _ of client.followTemplateVersionLogs(version.id, { signal: AbortSignal.timeout(IMPORT_WAIT_MS) })) {
    // Lines are not shown: only the outcome matters here.
  }
  const done = await client.templateVersion(version.id);
  if (done.job.status !== 'succeeded') throw new Error(`import ${done.job.status}: ${done.job.error ?? ''}`);
  await client.createTemplate(orgId, { name, display_name: 'Echo example', description: 'Replays scripted builds: see kiln templates init', template_version_id: version.id });
}
