// The provider's behaviour behind the protocol calls, driven with the DynamicValues Terraform would send.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { type ObjectValue, UNKNOWN, type Value } from '../../src/provisioners/terraform/provider/cty.js';
import { CoderProvider, DATA_SOURCES, decodeDynamic, encodeDynamic, RESOURCES } from '../../src/provisioners/terraform/provider/provider.js';
import { blockType } from '../../src/provisioners/terraform/provider/schema.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const typeOf = (name: string) => blockType([...RESOURCES, ...DATA_SOURCES].find((r) => r.name === name)!.schema.block);
const dv = (name: string, v: Value) => encodeDynamic(v, typeOf(name));
const read = (name: string, msg: unknown) => decodeDynamic(msg as { msgpack: Uint8Array }, typeOf(name)) as ObjectValue;
type Diag = { severity: number; summary: string; detail: string };

function configured(env: NodeJS.ProcessEnv = {}): CoderProvider {
  const p = new CoderProvider(env);
  const res = p.configure({ config: encodeDynamic({ url: null, host: null, feature_use_managed_variables: null }, ['object', { url: 'string', host: 'string', feature_use_managed_variables: 'bool' }]) });
  assert.deepEqual(res.diagnostics, []);
  return p;
}

/** Terraform's proposed new state for a create: the configuration, computed attributes null. */
function agentConfig(extra: ObjectValue = {}): ObjectValue {
  return { os: 'linux', arch: 'amd64', metadata: [], display_apps: [], resources_monitoring: [], ...extra };
}

function plan(p: CoderProvider, name: string, prior: ObjectValue | null, proposed: ObjectValue) {
  const res = p.planResourceChange({ typeName: name, priorState: dv(name, prior), proposedNewState: dv(name, proposed), config: dv(name, proposed) });
  assert.deepEqual(res.diagnostics, []);
  return { planned: read(name, res.plannedState), replace: ((res.requiresReplace ?? []) as { steps: { attributeName: string }[] }[]).map((p) => p.steps[0]!.attributeName) };
}

function apply(p: CoderProvider, name: string, planned: ObjectValue): ObjectValue {
  const res = p.applyResourceChange({ typeName: name, priorState: dv(name, null), plannedState: dv(name, planned), config: dv(name, planned) });
  assert.deepEqual(res.diagnostics, []);
  return read(name, res.newState);
}

describe('coder_agent', () => {
  const env = { CODER_AGENT_URL: 'https://kiln.example.com:8443/some/path', CODER_AGENT_SCRIPT_linux_amd64: 'fetch ${ACCESS_URL}bin/agent; auth=${AUTH_TYPE}' };

  it('plans id, token and init_script unknown, fills defaults, then creates them', () => {
    const p = configured(env);
    const { planned } = plan(p, 'coder_agent', null, agentConfig());
    assert.equal(planned.id, UNKNOWN);
    assert.equal(planned.token, UNKNOWN);
    assert.equal(planned.init_script, UNKNOWN);
    assert.equal(planned.auth, 'token');
    assert.equal(planned.connection_timeout, 120);
    const state = apply(p, 'coder_agent', planned);
    assert.match(String(state.id), UUID);
    assert.match(String(state.token), UUID);
    // The access URL's root, with its slash, as the original provider substitutes it.
    assert.equal(state.init_script, 'fetch https://kiln.example.com:8443/bin/agent; auth=token');
  });

  it('reuses a running agent token from the environment, as the original does for prebuilds', () => {
    const name = `CODER_RUNNING_WORKSPACE_AGENT_TOKEN_${createHash('sha256').update('').digest('hex')}`;
    const p = configured({ ...env, [name]: 'kept-token' });
    const state = apply(p, 'coder_agent', plan(p, 'coder_agent', null, agentConfig()).planned);
    assert.equal(state.token, 'kept-token');
  });

  it('plans no change for its own state and a replacement for a changed argument', () => {
    const p = configured(env);
    const state = apply(p, 'coder_agent', plan(p, 'coder_agent', null, agentConfig({ env: { A: '1' } })).planned);
    const refreshed = read('coder_agent', p.readResource({ typeName: 'coder_agent', currentState: dv('coder_agent', state) }).newState);
    assert.deepEqual(refreshed, state);
    const same = plan(p, 'coder_agent', state, { ...state });
    assert.deepEqual(same.planned, state);
    assert.deepEqual(same.replace, []);
    const changed = plan(p, 'coder_agent', state, { ...state, env: { A: '2' } });
    assert.deepEqual(changed.replace, ['env']);
  });

  it('rejects an unknown architecture and duplicate metadata keys', () => {
    const p = configured(env);
    const metadata = [
      { key: 'k', display_name: null, script: 'x', interval: 1, timeout: null, order: null },
      { key: 'k', display_name: null, script: 'y', interval: 1, timeout: null, order: null },
    ];
    const res = p.validateResourceTypeConfig({ typeName: 'coder_agent', config: dv('coder_agent', agentConfig({ arch: 'sparc', metadata })) });
    const summaries = (res.diagnostics as Diag[]).map((d) => d.summary);
    assert.deepEqual(summaries, ['Invalid arch', 'duplicate agent metadata key "k"']);
  });

  it('upgrades a stored state written by another schema version: extra attributes dropped, defaults filled', () => {
    const p = configured(env);
    const raw = { id: 'a', token: 't', init_script: 's', os: 'linux', arch: 'amd64', gone_attr: 1, metadata: [] };
    const res = p.upgradeResourceState({ typeName: 'coder_agent', version: 0, rawState: { json: Buffer.from(JSON.stringify(raw)) } });
    assert.deepEqual(res.diagnostics, []);
    const up = read('coder_agent', res.upgradedState);
    assert.equal(up.token, 't');
    assert.equal(up.auth, 'token');
    assert.ok(!('gone_attr' in up));
  });
});

describe('coder_metadata and coder_app', () => {
  it('marks items whose value is null, known at plan time', () => {
    const p = configured();
    const item = (key: string, value: Value, sensitive: boolean | null = null): ObjectValue => ({ key, value, sensitive, is_null: null });
    const config = { resource_id: 'r', hide: null, icon: null, daily_cost: 5, item: [item('a', 'x'), item('b', null), item('c', UNKNOWN, true)] };
    const { planned } = plan(p, 'coder_metadata', null, config);
    assert.deepEqual((planned.item as ObjectValue[]).map((i) => i.is_null), [false, true, UNKNOWN]);
    const state = apply(p, 'coder_metadata', { ...planned, item: (planned.item as ObjectValue[]).map((i) => (i.value === UNKNOWN ? { ...i, value: 'v' } : i)) });
    assert.deepEqual((state.item as ObjectValue[]).map((i) => [i.is_null, i.sensitive]), [[false, null], [true, null], [false, true]]);
  });

  it('validates slugs and conflicting arguments like the original', () => {
    const p = configured();
    const config = { agent_id: 'a', slug: 'Bad--slug', command: 'vim', url: 'http://x', healthcheck: [] };
    const res = p.validateResourceTypeConfig({ typeName: 'coder_app', config: dv('coder_app', config) });
    const summaries = (res.diagnostics as Diag[]).map((d) => d.summary).sort();
    assert.deepEqual(summaries, ['Conflicting configuration arguments', 'Invalid coder_app slug']);
  });
});

describe('data sources', () => {
  const paramEnv = (name: string) => `CODER_PARAMETER_${createHash('sha256').update(name).digest('hex')}`;
  const readData = (p: CoderProvider, name: string, config: ObjectValue) => {
    const res = p.readDataSource({ typeName: name, config: dv(name, config) });
    return { state: res.state ? read(name, res.state) : null, diagnostics: res.diagnostics as Diag[] };
  };
  const param = (extra: ObjectValue): ObjectValue => ({ name: 'Region', option: [], validation: [], ...extra });

  it('coder_workspace reads the build environment', () => {
    const p = configured({ CODER_AGENT_URL: 'http://127.0.0.1:3000', CODER_WORKSPACE_NAME: 'dev', CODER_WORKSPACE_TRANSITION: 'stop', CODER_WORKSPACE_OWNER: 'alice', CODER_WORKSPACE_OWNER_GROUPS: '["a","b"]' });
    const { state } = readData(p, 'coder_workspace', {});
    assert.equal(state!.name, 'dev');
    assert.equal(state!.start_count, 0);
    assert.equal(state!.owner, 'alice');
    assert.deepEqual(state!.owner_groups, ['a', 'b']);
    assert.equal(state!.access_url, 'http://127.0.0.1:3000');
    assert.equal(state!.access_port, 3000);
  });

  it('coder_parameter takes the input from its variable, else the default, and checks options', () => {
    const options = [{ name: 'US', value: 'us', description: null, icon: null }, { name: 'EU', value: 'eu', description: null, icon: null }];
    const fromDefault = readData(configured(), 'coder_parameter', param({ default: 'us', option: options }));
    assert.equal(fromDefault.state!.value, 'us');
    assert.equal(fromDefault.state!.form_type, 'radio');
    assert.equal(fromDefault.state!.optional, true);
    const fromInput = readData(configured({ [paramEnv('Region')]: 'eu' }), 'coder_parameter', param({ default: 'us', option: options }));
    assert.equal(fromInput.state!.value, 'eu');
    const bad = readData(configured({ [paramEnv('Region')]: 'mars' }), 'coder_parameter', param({ default: 'us', option: options }));
    assert.equal(bad.state, null);
    assert.equal(bad.diagnostics[0]!.summary, 'Value must be a valid option');
  });

  it('coder_parameter applies number validation and monotonicity against the previous value', () => {
    const rule = { min: 1, max: 10, monotonic: 'increasing', regex: null, error: null, min_disabled: null, max_disabled: null };
    const config = param({ name: 'Disk', type: 'number', default: '5', validation: [rule] });
    const ok = readData(configured(), 'coder_parameter', config);
    assert.equal(ok.state!.value, '5');
    assert.deepEqual((ok.state!.validation as ObjectValue[])[0]!.min_disabled, false);
    const shrinking = readData(
      configured({ [paramEnv('Disk')]: '4', [`CODER_PARAMETER_PREVIOUS_${createHash('sha256').update('Disk').digest('hex')}`]: '6' }),
      'coder_parameter',
      config,
    );
    assert.match(shrinking.diagnostics[0]!.detail, /must be equal or greater than previous value: 6/);
    const tooBig = readData(configured({ [paramEnv('Disk')]: '11' }), 'coder_parameter', config);
    assert.match(tooBig.diagnostics[0]!.detail, /more than the maximum 10/);
  });
});
