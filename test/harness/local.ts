import assert from 'node:assert/strict';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { KilnClient } from '../../src/sdk/client.js';
import { createTar } from '../../src/sdk/tar.js';
import type { Template, TemplateVersion } from '../../src/sdk/types/templates.js';
import type { WorkspaceAgent } from '../../src/sdk/types/workspaceBuilds.js';

import { waitFor } from './wait.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The example template shipped in examples/local-dev, as parsed JSON, so a test can adjust it. */
export async function exampleKilnJson(): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(root, 'examples', 'local-dev', 'kiln.json'), 'utf8')) as Record<string, unknown>;
}

let n = 0;

/** A template for the local provisioner from a kiln.json document. */
export async function createLocalTemplate(client: KilnClient, orgId: string, kilnJson: unknown): Promise<{ template: Template; version: TemplateVersion }> {
  const { hash } = await client.upload(createTar({ 'kiln.json': JSON.stringify(kilnJson) }));
  const v0 = await client.createTemplateVersion(orgId, { storage_method: 'file', file_id: hash, provisioner: 'local' });
  const version = await waitFor(async () => {
    const cur = await client.templateVersion(v0.id);
    return ['succeeded', 'failed', 'canceled'].includes(cur.job.status) ? cur : undefined;
  }, 'import of the local template');
  assert.equal(version.job.status, 'succeeded', `import failed: ${version.job.error ?? ''}`);
  const template = await client.createTemplate(orgId, { name: `local-${++n}-${Math.random().toString(36).slice(2, 7)}`, template_version_id: version.id });
  return { template, version };
}

/** A TCP port nobody listens on right now (the app of a test workspace takes it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Pids of live (non-zombie) processes whose environment holds `needle` (e.g. `KILN_WORKSPACE_ID=<id>`). */
export async function pidsWithEnv(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = await readFile(`/proc/${e}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const env = (await readFile(`/proc/${e}/environ`, 'utf8')).split('\0');
      if (env.includes(needle)) out.push(Number(e));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return out;
}

/** The workspace cgroup directories (…/kiln/<workspace id>) a process is in. */
async function kilnCgroups(pid: number): Promise<string[]> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [, controllers, p] = line.split(':');
    if (!p?.startsWith('/kiln/')) continue;
    if (controllers === '') out.push(path.join('/sys/fs/cgroup', p));
    else for (const c of (controllers ?? '').split(',')) if (['memory', 'pids', 'cpu'].includes(c)) out.push(path.join('/sys/fs/cgroup', c, p));
  }
  return out;
}

/**
 * SIGKILLs every process whose environment holds `needle`, and everything else in their workspace cgroups (e.g.
 * slirp4netns), then removes those cgroups: cleanup after a test, whatever state it left.
 */
export async function killAll(needle: string): Promise<void> {
  const groups = new Set<string>();
  for (const pid of await pidsWithEnv(needle)) {
    for (const g of await kilnCgroups(pid)) groups.add(g);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const g of groups) {
    for (let i = 0; i < 100; i++) {
      const pids = (await readFile(path.join(g, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await rmdir(g).catch(() => {});
  }
}

/** Alive and not a zombie (an exited child nobody reaped yet is not running). */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** The agent of the workspace's latest build (the first one). */
export async function latestAgent(client: KilnClient, workspaceId: string): Promise<WorkspaceAgent> {
  const ws = await client.workspace(workspaceId);
  const agent = ws.latest_build.resources.flatMap((r) => r.agents ?? [])[0];
  assert.ok(agent, 'the latest build has an agent');
  return agent;
}

/** The provisioner state of a build, as the local provisioner wrote it. */
export async function localState(client: KilnClient, buildId: string): Promise<{ dir: string; home: string; agents: { name: string; token: string; pid?: number }[] }> {
  return JSON.parse(new TextDecoder().decode(await client.workspaceBuildState(buildId))) as never;
}

/**
 * Appended to a startup script: fetches the workspace's own app on its loopback from inside the sandbox and logs
 * `self-check: <body>` (the app is on the workspace's network, not the host's, so the test cannot fetch it directly).
 */
export const SELF_CHECK =
  '\nfor i in $(seq 100); do node -e "fetch(\'http://127.0.0.1:\'+process.env.PORT+\'/\').then(r=>r.text()).then(t=>{console.log(\'self-check: \'+t.trim());process.exit(0)},()=>process.exit(1))" && break; sleep 0.1; done';

/** The example template with SELF_CHECK after its startup script. */
export function withSelfCheck(doc: Record<string, unknown>): void {
  const a = (doc.agents as Record<string, unknown>[])[0] as Record<string, unknown>;
  a.startup_script = String(a.startup_script) + SELF_CHECK;
}
