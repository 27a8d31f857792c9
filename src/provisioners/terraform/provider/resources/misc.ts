// The smaller resources templates use next to agents: scripts, environment variables, instance associations.
import { randomUUID } from 'node:crypto';

import { computed, opt, req, type SchemaSpec, withDefault } from '../schema.js';
import type { ResourceType } from '../types.js';
import { oneOf, validUrl } from './validate.js';

function simple(name: string, schema: SchemaSpec, validate?: ResourceType['validate']): ResourceType {
  return { name, schema, ...(validate ? { validate } : {}), create: (planned) => ({ state: { ...planned, id: randomUUID() } }) };
}

export const script = simple(
  'coder_script',
  {
    version: 0,
    block: {
      attributes: {
        id: computed('string'),
        agent_id: req('string'),
        display_name: req('string'),
        script: req('string'),
        icon: opt('string'),
        cron: opt('string'),
        log_path: opt('string'),
        start_blocks_login: withDefault('bool', false),
        run_on_start: withDefault('bool', false),
        run_on_stop: withDefault('bool', false),
        timeout: withDefault('number', 0),
      },
    },
  },
  (config) => validUrl(config, 'icon'),
);

export const env = simple(
  'coder_env',
  {
    version: 0,
    block: {
      attributes: {
        id: computed('string'),
        agent_id: req('string'),
        name: req('string'),
        value: opt('string'),
        merge_strategy: withDefault('string', 'replace'),
      },
    },
  },
  (config) => oneOf(config, 'merge_strategy', ['replace', 'append', 'prepend', 'error']),
);

export const agentInstance = simple('coder_agent_instance', {
  version: 0,
  block: { attributes: { id: computed('string'), agent_id: req('string'), instance_id: req('string') } },
});
