// coder_app: an application an agent serves (a URL proxied from the workspace, a command, or an external link).
import { randomUUID } from 'node:crypto';

import type { ObjectValue } from '../cty.js';
import { bool, computed, opt, req, type SchemaSpec, str, withDefault } from '../schema.js';
import { type Diagnostic, error, type ResourceType, warning } from '../types.js';
import { conflicts, maxLength, oneOf, validUrl } from './validate.js';

/** A hostname label with no doubled, leading or trailing hyphen (the rule Coder applies to app slugs). */
const SLUG = /^[a-z0-9](-?[a-z0-9])*$/;

const schema: SchemaSpec = {
  version: 1,
  block: {
    description: 'Use this resource to define shortcuts to access applications in a workspace.',
    attributes: {
      id: computed('string'),
      agent_id: req('string'),
      slug: req('string'),
      display_name: opt('string'),
      name: opt('string', { deprecated: 'Use display_name instead.' }),
      url: opt('string'),
      command: opt('string'),
      icon: opt('string'),
      subdomain: opt('bool'),
      share: withDefault('string', 'owner'),
      external: withDefault('bool', false),
      order: opt('number'),
      hidden: withDefault('bool', false),
      open_in: withDefault('string', 'slim-window'),
      group: opt('string'),
      tooltip: opt('string'),
      relative_path: opt('bool', { deprecated: 'Use subdomain instead.' }),
    },
    blocks: {
      healthcheck: {
        nesting: 'set',
        maxItems: 1,
        block: { attributes: { url: req('string'), interval: req('number'), threshold: req('number') } },
      },
    },
  },
};

function validate(config: ObjectValue): Diagnostic[] {
  const diags = [
    ...oneOf(config, 'share', ['owner', 'authenticated', 'public']),
    ...oneOf(config, 'open_in', ['tab', 'slim-window']),
    ...maxLength(config, 'display_name', 64, 'display name'),
    ...maxLength(config, 'group', 64, 'group name'),
    ...maxLength(config, 'tooltip', 2048, 'tooltip'),
    ...validUrl(config, 'icon'),
    ...conflicts(config, 'command', ['url', 'subdomain']),
    ...conflicts(config, 'healthcheck', ['command']),
  ];
  if (bool(config, 'external') === true) diags.push(...conflicts(config, 'external', ['healthcheck', 'command', 'subdomain']));
  const slug = str(config, 'slug');
  if (slug !== undefined && !SLUG.test(slug)) {
    diags.push(
      error(
        'Invalid coder_app slug',
        `invalid "coder_app" slug, must be a valid hostname ("${SLUG.source}", cannot contain two consecutive hyphens or start/end with a hyphen): "${slug}"`,
        ['slug'],
      ),
    );
  }
  if (bool(config, 'hidden') === true) {
    for (const n of ['display_name', 'icon', 'order']) {
      if (config[n] !== null && config[n] !== undefined) diags.push(warning(`\`${n}\` set when app is hidden`, undefined, [n]));
    }
  }
  return diags;
}

export const app: ResourceType = {
  name: 'coder_app',
  schema,
  validate,
  create: (planned) => ({ state: { ...planned, id: randomUUID() } }),
};
