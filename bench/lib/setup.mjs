// Users, templates and workspaces the benchmarks run against, made through the SDK like any client would.
import { KilnClient } from '../../dist/sdk/client.js';
import { createTar } from '../../dist/sdk/tar.js';

const app = (slug) => ({ slug, display_name: slug, url: `http://localhost:8080/${slug}`, healthcheck: { url: 'http://localhost:8080/healthz', interval: 5, threshold: 3 } });
const resource = (i) => ({
  name: `dev-${i}`,
  type: 'docker_container',
  icon: '/icon/docker.png',
  metadata: [{ key: 'cpu', value: '2' }],
  agents: [{ name: `main-${i}`, architecture: 'amd64', operating_system: 'linux', directory: '/home/dev', startup_script: 'echo hi', apps: [app(`code-${i}`), app(`term-${i}`)] }],
});

/** 2 resources, 2 agents, 4 apps: the build figure 1 reads. */
export const RICH_ECHO = { start: { resources: [resource(1), resource(2)] } };
/** A no-op build: succeeds at once, no logs, no resources. */
export const NOOP_ECHO = {};

export async function firstUser(url) {
  const client = new KilnClient(url);
  const { organization_id: orgId } = await client.createFirstUser({ email: 'bench@example.com', username: 'bench', password: 'bench-password-123' });
  await client.login('bench@example.com', 'bench-password-123');
  return { client, orgId, token: client.token };
}

export async function waitFor(fn, what, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let seq = 0;
export async function createTemplate(client, orgId, echo) {
  const { hash } = await client.upload(createTar({ 'echo.json': JSON.stringify(echo) }));
  const v = await client.createTemplateVersion(orgId, { storage_method: 'file', file_id: hash, provisioner: 'echo' });
  const done = await waitFor(async () => {
    const cur = await client.templateVersion(v.id);
    return ['succeeded', 'failed', 'canceled'].includes(cur.job.status) ? cur : undefined;
  }, 'template import');
  if (done.job.status !== 'succeeded') throw new Error(`template import ${done.job.status}: ${done.job.error}`);
  return client.createTemplate(orgId, { name: `bench-${++seq}`, template_version_id: v.id });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function createWorkspaces(client, orgId, templateId, n, prefix) {
  return pool(Array.from({ length: n }, (_, i) => i), 16, (i) => client.createWorkspace(orgId, 'me', { template_id: templateId, name: `${prefix}-${i}` }));
}

/** Waits until no provisioner job is left unfinished. */
export function waitIdle(db, timeoutMs = 300_000) {
  return waitFor(async () => {
    const { rows } = await db.query('SELECT count(*)::int AS n FROM provisioner_jobs WHERE completed_at IS NULL');
    return rows[0].n === 0;
  }, 'the queue to drain', timeoutMs);
}
