import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { checkParameterDeclarations } from '../../src/provisionersdk/parameters.js';
import { declarationEnv, declarationsFromPlan } from '../../src/provisioners/terraform/declarations.js';

// The shapes below are Terraform's JSON plan representation (`terraform show -json`): data sources read while
// planning sit in prior_state; the root module's variable blocks in configuration.
describe('Terraform declarations from a plan', () => {
  const plan = {
    prior_state: {
      values: {
        root_module: {
          resources: [
            {
              address: 'data.coder_parameter.cpus',
              mode: 'data',
              type: 'coder_parameter',
              values: {
                name: 'cpus', display_name: 'CPUs', type: 'number', mutable: true, default: '4', icon: '', order: 2, ephemeral: false,
                option: [], validation: [{ min: 1, max: 8, min_disabled: false, max_disabled: false, monotonic: 'increasing', regex: '', error: '' }],
              },
            },
            { address: 'data.coder_workspace.me', mode: 'data', type: 'coder_workspace', values: { name: 'x' } },
          ],
          child_modules: [
            {
              resources: [
                {
                  address: 'module.m.data.coder_parameter.region',
                  mode: 'data',
                  type: 'coder_parameter',
                  values: { name: 'region', type: 'string', default: null, option: [{ name: 'EU', value: 'eu', description: null, icon: null }], validation: [] },
                },
              ],
            },
          ],
        },
      },
    },
    configuration: { root_module: { variables: { region: { default: 'eu', description: 'where' }, token: { sensitive: true }, debug: { default: false } } } },
  };

  it('reads coder_parameter data sources (child modules too) and variable blocks', () => {
    const { parameters, variables } = declarationsFromPlan(plan);
    const checked = checkParameterDeclarations(parameters);
    assert.deepEqual(
      checked.map((p) => [p.name, p.type, p.required, p.validation_min, p.validation_max, p.validation_monotonic, p.order]),
      [
        ['cpus', 'number', false, 1, 8, 'increasing', 2],
        ['region', 'string', true, null, null, '', 0],
      ],
    );
    assert.deepEqual(checked[1]?.options, [{ name: 'EU', value: 'eu', description: '', icon: '' }]);
    assert.deepEqual(variables, [
      { name: 'region', description: 'where', type: 'string', default_value: 'eu', required: false, sensitive: false },
      { name: 'token', description: '', type: 'string', default_value: null, required: true, sensitive: true },
      { name: 'debug', description: '', type: 'bool', default_value: 'false', required: false, sensitive: false },
    ]);
  });

  it('a value from the template\'s own tfvars acts as the default; one the version supplied does not', () => {
    const doc = {
      variables: { size: { value: '1G' }, token: { value: 's3cret' } },
      configuration: { root_module: { variables: { size: {}, token: { sensitive: true } } } },
    };
    const { variables } = declarationsFromPlan(doc, new Set(['token']));
    assert.deepEqual(variables, [
      { name: 'size', description: '', type: 'string', default_value: '1G', required: false, sensitive: false },
      { name: 'token', description: '', type: 'string', default_value: null, required: true, sensitive: true },
    ]);
  });

  it('a disabled min/max is no bound; an empty plan declares nothing', () => {
    const p = declarationsFromPlan({
      prior_state: { values: { root_module: { resources: [{ address: 'a', mode: 'data', type: 'coder_parameter', values: { name: 'n', type: 'number', default: '1', validation: [{ min: 0, min_disabled: true, max: 5, max_disabled: false }] } }] } } },
    }).parameters[0];
    assert.equal(p?.validation_min, null);
    assert.equal(p?.validation_max, 5);
    assert.deepEqual(declarationsFromPlan({}), { parameters: [], variables: [] });
  });

  it('values reach Terraform as the provider reads them', () => {
    const env = declarationEnv({ richParameters: [{ name: 'cpus', value: '8' }], variables: [{ name: 'region', value: 'us' }] });
    assert.deepEqual(env, { [`CODER_PARAMETER_${createHash('sha256').update('cpus').digest('hex')}`]: '8', TF_VAR_region: 'us' });
  });
});
