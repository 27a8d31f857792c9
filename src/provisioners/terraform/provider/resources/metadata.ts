// coder_metadata: key/value items (some sensitive), an icon, a daily cost and a hide flag, shown with another resource.
import { randomUUID } from 'node:crypto';

import { type ObjectValue, UNKNOWN, type Value } from '../cty.js';
import { computed, opt, req, type SchemaSpec } from '../schema.js';
import type { ResourceType } from '../types.js';
import { validUrl } from './validate.js';

const schema: SchemaSpec = {
  version: 1,
  block: {
    description: 'Use this resource to attach metadata to a resource. They will be displayed in the dashboard.',
    attributes: {
      id: computed('string'),
      resource_id: req('string'),
      hide: opt('bool'),
      icon: opt('string'),
      daily_cost: opt('number'),
    },
    blocks: {
      item: {
        nesting: 'list',
        block: {
          attributes: {
            key: req('string'),
            value: opt('string'),
            sensitive: opt('bool'),
            // True when `value` is null: consumers of the state tell an absent value from an empty string by it.
            is_null: computed('bool'),
          },
        },
      },
    },
  },
};

function markNulls(o: ObjectValue): ObjectValue {
  const items = o.item;
  if (!Array.isArray(items)) return o;
  return {
    ...o,
    item: items.map((it): Value => {
      if (typeof it !== 'object' || it === null || Array.isArray(it)) return it;
      const item = it as ObjectValue;
      const value = item.value ?? null;
      return { ...item, is_null: value === UNKNOWN ? UNKNOWN : value === null };
    }),
  };
}

export const metadata: ResourceType = {
  name: 'coder_metadata',
  schema,
  validate: (config) => validUrl(config, 'icon'),
  planCreate: (planned) => markNulls(planned),
  create: (planned) => ({ state: markNulls({ ...planned, id: randomUUID() }) }),
};
