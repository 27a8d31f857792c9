// Terraform JSON → build resources, as Coder derives them (no terraform binary needed: the inputs are its JSON).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { flattenModule, graphFromConfig, graphFromState, labelOf, type JsonResource } from '../../src/provisioners/terraform/graph.js';
import { convertJsonLine, summarizeTextErrors } from '../../src/provisioners/terraform/jsonLog.js';
import { convertResources } from '../../src/provisioners/terraform/resources.js';

const r = (address: string, values: Record<string, unknown>, depends_on?: string[]): JsonResource => {
  const [type, name] = address.replace(/\[.*\]$/, '').split('.').slice(-2) as [string, string];
  return { address, mode: address.startsWith('data.') ? 'data' : 'managed', type, name, values, depends_on };
};

describe('terraform resources', () => {
  it('state: agents go to the nearest resource depending on them, apps to their agent, metadata to its resource', () => {
    const all = flattenModule({
      resources: [
        r('coder_agent.main', { id: 'agent-1', token: 'tok', os: 'linux', arch: 'amd64', dir: '/home/me', env: { A: 'b' }, startup_script: 'echo hi', connection_timeout: 120 }),
        r('coder_app.code', { agent_id: 'agent-1', slug: 'code', display_name: 'Code', url: 'http://localhost:1', share: 'owner', healthcheck: [{ url: 'http://localhost:1/h', interval: 5, threshold: 3 }] }, ['coder_agent.main']),
        r('docker_volume.home', { id: 'vol' }),
        r('docker_container.dev[0]', { id: 'ctr' }, ['coder_agent.main', 'docker_volume.home']),
        r('null_resource.later', { id: 'n' }, ['docker_container.dev']),
        r('coder_metadata.dev[0]', { resource_id: 'ctr', hide: true, icon: '/i.svg', daily_cost: 7, item: [{ key: 'k', value: 'v', sensitive: false }, { key: 's', value: 'secret', sensitive: true }, { key: 'n', is_null: true }] }, ['docker_container.dev']),
        r('data.coder_workspace.me', { start_count: 1 }),
      ],
    });
    const out = convertResources(all, graphFromState(all));
    assert.deepEqual(out.map((x) => `${x.type}.${x.name}`), ['docker_volume.home', 'docker_container.dev', 'null_resource.later']);
    const dev = out[1];
    assert.equal(dev?.agents?.length, 1, 'the container (depth 0) wins over null_resource (depth 1)');
    assert.equal(dev?.agents?.[0]?.auth_token, 'tok');
    assert.deepEqual(dev?.agents?.[0]?.environment_variables, { A: 'b' });
    assert.deepEqual(dev?.agents?.[0]?.apps?.[0], {
      slug: 'code', display_name: 'Code', command: undefined, url: 'http://localhost:1', icon: undefined, subdomain: undefined, external: undefined,
      sharing_level: 'owner', healthcheck: { url: 'http://localhost:1/h', interval: 5, threshold: 3 },
    });
    assert.equal(dev?.hide, true);
    assert.equal(dev?.daily_cost, 7);
    assert.deepEqual(dev?.metadata, [
      { key: 'k', value: 'v', sensitive: false },
      { key: 's', value: 'secret', sensitive: true },
      { key: 'n', value: null, sensitive: false },
    ]);
    assert.deepEqual(out[0]?.agents, [], 'the volume does not reference the agent');
  });

  it('plan: unknown ids, so apps and metadata follow configuration references', () => {
    const all = flattenModule({
      resources: [r('coder_agent.main', { os: 'linux' }), r('coder_app.web', { slug: 'web' }), r('terraform_data.ws[0]', {}), r('coder_metadata.ws[0]', { item: [{ key: 'dir', value: '/x' }] })],
    });
    const config = {
      resources: [
        { address: 'coder_agent.main', expressions: {} },
        { address: 'coder_app.web', expressions: { agent_id: { references: ['coder_agent.main.id', 'coder_agent.main'] } } },
        // The agent is referenced from a provisioner block only (the init script), as in examples/terraform-local.
        { address: 'terraform_data.ws', provisioners: [{ expressions: { environment: { references: ['coder_agent.main.init_script', 'coder_agent.main'] } } }] },
        { address: 'coder_metadata.ws', expressions: { resource_id: { references: ['terraform_data.ws[0].id', 'terraform_data.ws'] } } },
      ],
    };
    const out = convertResources(all, graphFromConfig(config, new Set(all.map((x) => labelOf(x.address)))));
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]?.agents?.map((a) => a.name), ['main']);
    assert.deepEqual(out[0]?.agents?.[0]?.apps?.map((a) => a.slug), ['web']);
    assert.deepEqual(out[0]?.metadata, [{ key: 'dir', value: '/x', sensitive: false }]);
  });

  it('child modules: resources are found and references resolve inside their module', () => {
    const all = flattenModule({ child_modules: [{ resources: [r('module.vm.coder_agent.a', { id: '1' }), r('module.vm.aws_instance.x', { id: 'i' }, ['module.vm.coder_agent.a'])] }] });
    const out = convertResources(all, graphFromState(all));
    assert.deepEqual(out.map((x) => [x.name, x.agents?.map((a) => a.name)]), [['x', ['a']]]);
  });
});

describe('terraform output → log lines', () => {
  it('a JSON message keeps its level; several lines stay several lines; diagnostics are formatted at their severity', () => {
    assert.deepEqual(convertJsonLine('{"@level":"info","@message":"a: Creating...","type":"apply_start"}', 'info').lines, [{ level: 'info', output: 'a: Creating...' }]);
    assert.deepEqual(convertJsonLine('{"@level":"warn","@message":"one\\ntwo"}', 'info').lines, [{ level: 'warn', output: 'one' }, { level: 'warn', output: 'two' }]);
    const d = convertJsonLine(JSON.stringify({ '@level': 'error', type: 'diagnostic', diagnostic: { severity: 'error', summary: 'Bad', detail: 'Because.', range: { filename: 'main.tf', start: { line: 3 } }, snippet: { context: 'resource "x" "y"', code: '  a = b', start_line: 3 } } }), 'info');
    assert.deepEqual(d.lines.map((l) => l.output), ['Error: Bad', '', '  on main.tf line 3, in resource "x" "y":', '   3:   a = b', '', 'Because.']);
    assert.ok(d.lines.every((l) => l.level === 'error'));
    assert.deepEqual(convertJsonLine('not json {', 'error').lines, [{ level: 'error', output: 'not json {' }]);
  });

  it('init\'s text errors become the job error, without the generic preface', () => {
    const text = ['Error: Terraform encountered problems during initialisation, including problems', 'with the configuration, described below.', '', 'Error: Invalid expression', '', '  on main.tf line 2, in resource "terraform_data" "x":', '   2:   input = ', '', 'Expected the start of an expression.'];
    assert.equal(summarizeTextErrors(text), 'Invalid expression (main.tf line 2): Expected the start of an expression.');
    assert.equal(summarizeTextErrors(['all good']), undefined);
  });
});
