import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { KilnClient } from '../../src/sdk/client.js';
import type { WorkspaceBuildParameter } from '../../src/sdk/types/parameters.js';

import { expectApiError } from '../harness/expect.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createEchoTemplate, createEchoVersion, waitForBuild } from '../harness/templates.js';

// Rich parameters end to end through the echo provisioner: declarations read at import, Coder's validation on
// workspace and build creation, carry-over, ephemeral values, and what the provisioner receives.
const ECHO = {
  start: { echo_parameters: true },
  stop: { echo_parameters: true },
  parameters: [
    { name: 'region', display_name: 'Region', type: 'string', default_value: 'eu', options: [{ name: 'Europe', value: 'eu' }, { name: 'US', value: 'us' }] },
    { name: 'cpus', type: 'number', mutable: true, default_value: '4', validation_min: 3, validation_max: 10 },
    { name: 'disk', type: 'number', mutable: true, default_value: '7', validation_monotonic: 'increasing' },
    { name: 'shrink', type: 'number', mutable: true, default_value: '7', validation_monotonic: 'decreasing' },
    { name: 'user', type: 'string', mutable: true, default_value: 'abc', validation_regex: '^[a-z]+$', validation_error: 'lowercase letters only' },
    { name: 'gpu', type: 'bool', mutable: true, default_value: 'false' },
    { name: 'tags', type: 'list(string)', mutable: true, default_value: '[]' },
    { name: 'secret_word', type: 'string', mutable: true },
    { name: 'once', type: 'string', mutable: true, ephemeral: true, default_value: 'no' },
    { name: 'note', type: 'number', mutable: true, default_value: '1' },
  ],
};

describe('rich parameters', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let org: string;
  let templateId: string;
  let n = 0;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 2 });
    owner = await srv.createFirstUser();
    org = owner.organizationId;
    templateId = (await createEchoTemplate(owner.client, org, ECHO)).template.id;
  });
  after(async () => srv.close());

  const create = (client: KilnClient, values: WorkspaceBuildParameter[] | undefined) =>
    client.createWorkspace(org, 'me', { template_id: templateId, name: `rp-${++n}`, rich_parameter_values: values });
  const required = [{ name: 'secret_word', value: 'xyzzy' }];
  const params = async (buildId: string) => Object.fromEntries((await owner.client.workspaceBuildParameters(buildId)).map((p) => [p.name, p.value]));

  it('GET rich-parameters lists the declarations in Coder\'s shape', async () => {
    const t = await owner.client.template(templateId);
    const list = await owner.client.templateVersionRichParameters(t.active_version_id);
    assert.deepEqual(list.map((p) => p.name), ['cpus', 'disk', 'gpu', 'note', 'once', 'region', 'secret_word', 'shrink', 'tags', 'user']);
    const region = list.find((p) => p.name === 'region');
    assert.deepEqual(region, {
      name: 'region', display_name: 'Region', description: '', description_plaintext: '', type: 'string', form_type: '', mutable: false, default_value: 'eu', icon: '',
      options: [{ name: 'Europe', description: '', value: 'eu', icon: '' }, { name: 'US', description: '', value: 'us', icon: '' }], required: false, ephemeral: false,
    });
    const cpus = list.find((p) => p.name === 'cpus');
    assert.equal(cpus?.validation_min, 3);
    assert.equal(cpus?.validation_max, 10);
    assert.equal(list.find((p) => p.name === 'secret_word')?.required, true);
    assert.equal(list.find((p) => p.name === 'once')?.ephemeral, true);
  });

  it('a required parameter without a value: 400 naming it', async () => {
    const e = await expectApiError(create(owner.client, []), 400, 'Unable to validate parameter "secret_word"');
    assert.equal(e.response.detail, 'Parameter "secret_word" is required but not provided');
    assert.deepEqual(e.response.validations, [{ field: 'secret_word', detail: 'Parameter "secret_word" is required but not provided' }]);
  });

  it('type, option, min/max, regex: each refused with Coder\'s message, valid values accepted', async () => {
    const cases: [string, string, string | undefined][] = [
      ['cpus', '2', 'value 2 is less than the minimum 3'],
      ['cpus', '3', undefined],
      ['cpus', '10', undefined],
      ['cpus', '11', 'value 11 is more than the maximum 10'],
      ['cpus', 'many', 'value "many" is not a number'],
      ['region', 'mars', 'parameter value must match one of options: [eu us]'],
      ['user', 'abcd', undefined],
      ['user', 'abcd1', 'lowercase letters only (value "abcd1" does not match "^[a-z]+$")'],
      ['gpu', 'true', undefined],
      ['gpu', 'cat', 'boolean value can be either "true" or "false"'],
      ['tags', '["a","b"]', undefined],
      ['tags', 'a,b', 'value "a,b" is not valid list of strings'],
      ['note', '42', undefined],
    ];
    for (const [name, value, problem] of cases) {
      const p = create(owner.client, [...required, { name, value }]);
      if (!problem) {
        const ws = await p;
        assert.equal((await params(ws.latest_build.id))[name], value, `${name}=${value} is stored`);
        continue;
      }
      const e = await expectApiError(p, 400, `Unable to validate parameter "${name}"`);
      const label = name === 'region' ? 'Region' : name;
      assert.equal(e.response.detail, `can't validate build parameter "${label}": ${problem}`, `${name}=${value}`);
    }
  });

  it('carry-over across three builds; ephemeral values do not carry over; the provisioner sees every value', async () => {
    const ws = await create(owner.client, [...required, { name: 'cpus', value: '5' }, { name: 'once', value: 'yes' }]);
    const b1 = await waitForBuild(owner.client, ws.latest_build.id);
    assert.equal(b1.status, 'running');
    assert.deepEqual(await params(b1.id), {
      cpus: '5', disk: '7', gpu: 'false', note: '1', once: 'yes', region: 'eu', secret_word: 'xyzzy', shrink: '7', tags: '[]', user: 'abc',
    });
    const logs = (await owner.client.workspaceBuildLogs(b1.id)).map((l) => l.output).filter((o) => o.startsWith('param '));
    assert.ok(logs.includes('param cpus=5') && logs.includes('param once=yes') && logs.includes('param secret_word=xyzzy'), logs.join('\n'));

    const b2 = await owner.client.createWorkspaceBuild(ws.id, { transition: 'stop' });
    await waitForBuild(owner.client, b2.id);
    const p2 = await params(b2.id);
    assert.equal(p2.cpus, '5', 'carried over');
    assert.equal(p2.once, 'no', 'an ephemeral value is not carried over: the default returns');

    const b3 = await owner.client.createWorkspaceBuild(ws.id, { transition: 'start', rich_parameter_values: [{ name: 'cpus', value: '8' }] });
    await waitForBuild(owner.client, b3.id);
    const p3 = await params(b3.id);
    assert.equal(p3.cpus, '8');
    assert.equal(p3.secret_word, 'xyzzy');
  });

  it('an immutable parameter cannot change after the first build; the same value is accepted', async () => {
    const ws = await create(owner.client, [...required, { name: 'region', value: 'us' }]);
    await waitForBuild(owner.client, ws.latest_build.id);
    const e = await expectApiError(
      owner.client.createWorkspaceBuild(ws.id, { transition: 'start', rich_parameter_values: [{ name: 'region', value: 'eu' }] }),
      400,
      'Unable to validate parameter "region"',
    );
    assert.equal(e.response.detail, 'Parameter "region" is not mutable, so it can\'t be updated after creating a workspace.');
    const same = await owner.client.createWorkspaceBuild(ws.id, { transition: 'start', rich_parameter_values: [{ name: 'region', value: 'us' }] });
    await waitForBuild(owner.client, same.id);
    assert.equal((await params(same.id)).region, 'us');
  });

  it('monotonic increasing and decreasing refuse the wrong direction', async () => {
    const ws = await create(owner.client, [...required, { name: 'disk', value: '7' }, { name: 'shrink', value: '7' }]);
    await waitForBuild(owner.client, ws.latest_build.id);
    const build = (values: WorkspaceBuildParameter[]) => owner.client.createWorkspaceBuild(ws.id, { transition: 'start', rich_parameter_values: values });
    let e = await expectApiError(build([{ name: 'disk', value: '6' }]), 400, 'Unable to validate parameter "disk"');
    assert.equal(e.response.detail, 'can\'t validate build parameter "disk": parameter value \'6\' must be equal or greater than previous value: 7');
    e = await expectApiError(build([{ name: 'shrink', value: '8' }]), 400, 'Unable to validate parameter "shrink"');
    assert.equal(e.response.detail, 'can\'t validate build parameter "shrink": parameter value \'8\' must be equal or lower than previous value: 7');
    const ok = await build([{ name: 'disk', value: '8' }, { name: 'shrink', value: '6' }]);
    await waitForBuild(owner.client, ok.id);
    assert.deepEqual([(await params(ok.id)).disk, (await params(ok.id)).shrink], ['8', '6']);
  });

  it('a delete build is never refused over parameters', async () => {
    const ws = await create(owner.client, required);
    await waitForBuild(owner.client, ws.latest_build.id);
    const del = await owner.client.createWorkspaceBuild(ws.id, { transition: 'delete', rich_parameter_values: [{ name: 'cpus', value: '1' }] });
    assert.equal((await waitForBuild(owner.client, del.id)).status, 'deleted');
  });

  it('a member sees their build\'s parameters; another member gets 404', async () => {
    const alice = await srv.createUser(owner.client);
    const bob = await srv.createUser(owner.client);
    const ws = await alice.client.createWorkspace(org, 'me', { template_id: templateId, name: 'alice-ws', rich_parameter_values: required });
    assert.equal((await alice.client.workspaceBuildParameters(ws.latest_build.id)).find((p) => p.name === 'secret_word')?.value, 'xyzzy');
    await expectApiError(bob.client.workspaceBuildParameters(ws.latest_build.id), 404);
    await expectApiError(bob.client.templateVersionVariables((await owner.client.template(templateId)).active_version_id), 404);
  });

  it('an invalid declaration fails the import with a clear error', async () => {
    for (const [decl, msg] of [
      [{ name: 'x', type: 'text' }, 'type must be one of'],
      [{ name: 'x', type: 'string', validation_min: 1 }, 'a min or max cannot be specified for a string type'],
      [{ name: 'x', default_value: 'z', options: [{ name: 'A', value: 'a' }] }, 'must be defined as one of options'],
      [{ name: 'x', validation_regex: '^a' }, 'an error must be specified with a regex validation'],
    ] as [unknown, string][]) {
      const v = await createEchoVersion(owner.client, org, { parameters: [decl] });
      assert.equal(v.job.status, 'failed');
      assert.match(v.job.error ?? '', new RegExp(msg.replace(/[()]/g, '\\$&')));
    }
  });

  it('template variables: stored from user_variable_values, sensitive ones redacted, reused by the next version', async () => {
    const echo = {
      variables: [
        { name: 'region', type: 'string', default_value: 'eu', description: 'where' },
        { name: 'token', type: 'string', sensitive: true, required: true },
      ],
    };
    const { hash } = await owner.client.upload((await import('../../src/sdk/tar.js')).createTar({ 'echo.json': JSON.stringify(echo) }));
    const missing = await owner.client.createTemplateVersion(org, { storage_method: 'file', file_id: hash, provisioner: 'echo' });
    const failed = await waitImport(owner.client, missing.id);
    assert.equal(failed.job.status, 'failed');
    assert.match(failed.job.error ?? '', /required template variables need values: token/);

    const v1 = await owner.client.createTemplateVersion(org, {
      storage_method: 'file', file_id: hash, provisioner: 'echo', user_variable_values: [{ name: 'token', value: 's3cret' }],
    });
    assert.equal((await waitImport(owner.client, v1.id)).job.status, 'succeeded');
    const t = await owner.client.createTemplate(org, { name: 'vars-tpl', template_version_id: v1.id });
    const vars = await owner.client.templateVersionVariables(v1.id);
    assert.deepEqual(vars, [
      { name: 'region', description: 'where', type: 'string', value: '', default_value: 'eu', required: false, sensitive: false },
      { name: 'token', description: '', type: 'string', value: '*redacted*', default_value: '*redacted*', required: true, sensitive: true },
    ]);
    assert.ok(!JSON.stringify(await owner.client.templateVersion(v1.id)).includes('s3cret'));
    // A later version of the template without values reuses the active version's.
    const v2 = await owner.client.createTemplateVersion(org, { storage_method: 'file', file_id: hash, provisioner: 'echo', template_id: t.id });
    assert.equal((await waitImport(owner.client, v2.id)).job.status, 'succeeded');
    assert.equal((await owner.client.templateVersionVariables(v2.id)).find((v) => v.name === 'token')?.value, '*redacted*');
    const logs = await owner.client.templateVersionLogs(v2.id);
    assert.ok(!JSON.stringify(logs).includes('s3cret'), 'a sensitive value never reaches the logs');
  });
});

async function waitImport(client: KilnClient, id: string) {
  const { waitFor } = await import('../harness/wait.js');
  return waitFor(async () => {
    const v = await client.templateVersion(id);
    return ['succeeded', 'failed', 'canceled'].includes(v.job.status) ? v : undefined;
  }, `import ${id}`);
}
