import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import type { Workspace } from '../../src/sdk/types/workspaces.js';
import { expectApiError } from '../harness/expect.js';
import { freePort, isRunning, killAll, latestAgent } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
import { coderProviderOrSkip, createTerraformVersion } from '../harness/terraform.js';
import { waitFor } from '../harness/wait.js';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'terraform-local');
const SKIP = await coderProviderOrSkip();

/** examples/terraform-local end to end: real terraform, kiln's coder provider, the agent bundle fetched by init_script. */
describe('examples/terraform-local (needs kiln\'s coder provider)', { skip: SKIP }, () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let scratch: string;

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 2, overrides: { agentConnectionUpdateMs: 500 } });
    owner = await srv.createFirstUser();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'kiln-tf-local-'));
  });
  after(async () => {
    // The agent and the app it started carry the server URL in their environment: end them whatever the test left.
    if (srv) await killAll(`CODER_AGENT_URL=${srv.url}`);
    await srv?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const build = async (ws: Workspace, transition: 'start' | 'stop' | 'delete') => {
    const b = await owner.client.createWorkspaceBuild(ws.id, { transition });
    const done = await waitForBuild(owner.client, b.id, undefined, 180_000);
    assert.equal(done.job.status, 'succeeded', `${transition}: ${done.job.error ?? ''}`);
    return done;
  };
  const state = async (buildId: string) => JSON.parse(new TextDecoder().decode(await owner.client.workspaceBuildState(buildId))) as { lineage: string; resources: { type: string; instances: unknown[] }[] };
  const agentPid = async (dir: string) => Number((await readFile(path.join(dir, 'agent.pid'), 'utf8')).trim());

  it('push → agent and app listed; create → ready and healthy; stop → agent gone; start → back; delete → 410', async () => {
    const files = { 'main.tf': await readFile(path.join(EXAMPLE, 'main.tf'), 'utf8') };
    const version = await createTerraformVersion(owner.client, owner.organizationId, files);
    assert.equal(version.job.status, 'succeeded', version.job.error);
    const resources = await owner.client.templateVersionResources(version.id);
    const start = resources.filter((r) => r.workspace_transition === 'start');
    const agents = start.flatMap((r) => r.agents ?? []);
    assert.deepEqual(agents.map((a) => a.name), ['main']);
    assert.deepEqual(agents[0]?.apps.map((a) => a.slug), ['hello']);
    assert.ok(start.some((r) => r.type === 'terraform_data' && r.name === 'workspace'));
    // Stopped, the workspace has no terraform_data (count = start_count): no agent either.
    assert.ok(!resources.filter((r) => r.workspace_transition === 'stop').some((r) => r.agents?.length));

    const template = await owner.client.createTemplate(owner.organizationId, { name: 'terraform-local', template_version_id: version.id });
    const port = await freePort();
    const ws = await owner.client.createWorkspace(owner.organizationId, 'me', {
      template_id: template.id,
      name: 'tflocal',
      parameter_values: [
        { name: 'app_port', source_value: String(port), source_scheme: 'data', destination_scheme: 'provisioner_variable' },
        { name: 'workspaces_dir', source_value: scratch, source_scheme: 'data', destination_scheme: 'provisioner_variable' },
      ],
    });
    const dir = path.join(scratch, owner.username, ws.name);
    const first = await waitForBuild(owner.client, ws.latest_build.id, undefined, 180_000);
    assert.equal(first.job.status, 'succeeded', first.job.error);
    const waitReady = () =>
      waitFor(async () => {
        const a = await latestAgent(owner.client, ws.id);
        return a.status === 'connected' && a.lifecycle_state === 'ready' ? a : undefined;
      }, 'agent connected and ready', 60_000);
    await waitReady();
    await waitFor(async () => (await latestAgent(owner.client, ws.id)).apps[0]?.health === 'healthy', 'app healthy', 60_000);
    const meta = first.resources.find((r) => r.type === 'terraform_data')?.metadata ?? [];
    assert.ok(meta.some((m) => m.key === 'agent token' && m.sensitive), 'coder_metadata decorates the resource');
    const s1 = await state(first.id);
    const pid = await agentPid(dir);
    assert.ok(await isRunning(pid));

    const stop = await build(ws, 'stop');
    await waitFor(async () => !(await isRunning(pid)), 'the agent process to end', 30_000);
    assert.equal((await state(stop.id)).lineage, s1.lineage, 'the stop build continued the stored state');

    const again = await build(ws, 'start');
    await waitReady();
    assert.equal((await state(again.id)).lineage, s1.lineage);

    await build(ws, 'delete');
    const gone = await agentPid(dir).catch(() => undefined);
    assert.equal(gone, undefined, 'the destroy provisioner removed the pid file');
    await expectApiError(owner.client.workspace(ws.id), 410);
  });
});
