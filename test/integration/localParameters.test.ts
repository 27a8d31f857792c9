import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createTar } from '../../src/sdk/tar.js';
import { createLocalTemplate, killAll, latestAgent } from '../harness/local.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

// Rich parameters of the local provisioner: declared in kiln.json, exported to the agent under their own (checked)
// names, and nothing else: a value cannot name an arbitrary variable, and a dangerous name is refused at import.
describe('local workspaces: rich parameters', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1, overrides: { agentConnectionUpdateMs: 500 } });
    owner = await srv.createFirstUser();
  });
  after(async () => {
    if (srv) await killAll(`KILN_AGENT_URL=${srv.url}`);
    await srv?.close();
  });

  it('the startup script sees the value; a name the template does not declare is not exported', async () => {
    const { template } = await createLocalTemplate(owner.client, owner.organizationId, {
      parameters: [{ name: 'GREETING_NAME', display_name: 'Who to greet', type: 'string', mutable: true, default_value: 'world' }],
      agents: [{ name: 'main', startup_script: 'echo "hello, $GREETING_NAME"; echo "bash_env=${BASH_ENV:-unset}"' }],
    });
    const ws = await owner.client.createWorkspace(owner.organizationId, 'me', {
      template_id: template.id,
      name: 'greeter',
      rich_parameter_values: [{ name: 'GREETING_NAME', value: 'kiln' }, { name: 'BASH_ENV', value: '/tmp/evil' }],
    });
    const b = await waitForBuild(owner.client, ws.latest_build.id, undefined, 30_000);
    assert.equal(b.job.status, 'succeeded', b.job.error);
    const lines = await waitFor(async () => {
      const a = await latestAgent(owner.client, ws.id);
      const logs = (await owner.client.workspaceAgentStartupLogs(a.id)).map((l) => l.output);
      return logs.some((l) => l.startsWith('bash_env=')) ? logs : undefined;
    }, 'startup script output', 20_000);
    assert.ok(lines.includes('hello, kiln'), lines.join('\n'));
    assert.ok(lines.includes('bash_env=unset'), 'an undeclared name is not exported');
    assert.deepEqual(await owner.client.workspaceBuildParameters(b.id), [{ name: 'GREETING_NAME', value: 'kiln' }]);
  });

  it('a parameter named LD_PRELOAD (or BASH_ENV, PATH) is refused at import', async () => {
    for (const name of ['LD_PRELOAD', 'BASH_ENV', 'PATH', 'KILN_AGENT_TOKEN', 'not a name']) {
      const { hash } = await owner.client.upload(createTar({ 'kiln.json': JSON.stringify({ parameters: [{ name, default_value: '' }], agents: [] }) }));
      const v0 = await owner.client.createTemplateVersion(owner.organizationId, { storage_method: 'file', file_id: hash, provisioner: 'local' });
      const v = await waitFor(async () => {
        const cur = await owner.client.templateVersion(v0.id);
        return ['succeeded', 'failed'].includes(cur.job.status) ? cur : undefined;
      }, 'import');
      assert.equal(v.job.status, 'failed', name);
      assert.match(v.job.error ?? '', new RegExp(`"${name}"`), v.job.error);
    }
  });
});
