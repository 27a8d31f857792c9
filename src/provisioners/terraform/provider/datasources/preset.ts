// coder_workspace_preset: a named set of parameter values (and prebuild settings) offered when creating a workspace.
// The provider only records it; its id is its name, as in the original.
import { computed, opt, req, type SchemaSpec, str, withDefault } from '../schema.js';
import type { DataSourceType } from '../types.js';
import { validUrl } from '../resources/validate.js';

const schema: SchemaSpec = {
  version: 0,
  block: {
    attributes: {
      id: computed('string'),
      name: req('string'),
      default: withDefault('bool', false),
      description: opt('string'),
      icon: opt('string'),
      parameters: opt(['map', 'string']),
    },
    blocks: {
      prebuilds: {
        nesting: 'set',
        maxItems: 1,
        block: {
          attributes: { instances: req('number') },
          blocks: {
            expiration_policy: { nesting: 'set', maxItems: 1, block: { attributes: { ttl: req('number') } } },
            scheduling: {
              nesting: 'list',
              maxItems: 1,
              block: {
                attributes: { timezone: req('string') },
                blocks: { schedule: { nesting: 'list', minItems: 1, block: { attributes: { cron: req('string'), instances: req('number') } } } },
              },
            },
          },
        },
      },
    },
  },
};

export const workspacePreset: DataSourceType = {
  name: 'coder_workspace_preset',
  schema,
  validate: (config) => validUrl(config, 'icon'),
  read: (config) => ({ state: { ...config, id: str(config, 'name') ?? '' } }),
};
