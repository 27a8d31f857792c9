// coder_agent: an agent that runs inside a workspace resource. Every argument forces a new agent (as in the original);
// `id` and `token` are fresh UUIDs at create, `init_script` comes from the daemon's environment.
import { createHash, randomUUID } from 'node:crypto';

import type { ObjectValue } from '../cty.js';
import { computed, opt, req, type SchemaSpec, str, withDefault } from '../schema.js';
import { type Diagnostic, error, type ProviderContext, type ResourceType, warning } from '../types.js';
import { atLeast, oneOf } from './validate.js';

const ARCHES = ['amd64', 'armv7', 'arm64'] as const;
const OSES = ['linux', 'darwin', 'windows'] as const;
const AUTHS = ['token', 'google-instance-identity', 'aws-instance-identity', 'azure-instance-identity'] as const;

const schema: SchemaSpec = {
  version: 1,
  block: {
    description: 'Use this resource to associate an agent.',
    attributes: {
      id: computed('string'),
      init_script: computed('string', { description: 'Run this script on startup of an instance to initialize the agent.' }),
      token: computed('string', { sensitive: true, description: 'Set CODER_AGENT_TOKEN with this token to authenticate an agent.' }),
      arch: req('string'),
      os: req('string'),
      auth: withDefault('string', 'token'),
      api_key_scope: withDefault('string', 'all'),
      dir: opt('string', { deprecated: 'dir has been deprecated and will be removed in a future release.' }),
      env: opt(['map', 'string']),
      startup_script: opt('string'),
      startup_script_behavior: withDefault('string', 'non-blocking'),
      shutdown_script: opt('string'),
      connection_timeout: withDefault('number', 120),
      troubleshooting_url: opt('string'),
      motd_file: opt('string'),
      order: opt('number'),
      // Arguments of 0.x releases that templates still carry; accepted and stored, with no effect of their own.
      startup_script_timeout: opt('number', { deprecated: 'Use startup_script_behavior (or coder_script) instead.' }),
      shutdown_script_timeout: opt('number', { deprecated: 'Use coder_script instead.' }),
      login_before_ready: opt('bool', { deprecated: 'Use startup_script_behavior instead.' }),
    },
    blocks: {
      metadata: {
        nesting: 'list',
        block: {
          attributes: {
            key: req('string'),
            display_name: opt('string'),
            script: req('string'),
            interval: req('number'),
            timeout: opt('number'),
            order: opt('number'),
          },
        },
      },
      display_apps: {
        nesting: 'set',
        maxItems: 1,
        block: {
          attributes: {
            vscode: withDefault('bool', true),
            vscode_insiders: withDefault('bool', false),
            web_terminal: withDefault('bool', true),
            port_forwarding_helper: withDefault('bool', true),
            ssh_helper: withDefault('bool', true),
          },
        },
      },
      resources_monitoring: {
        nesting: 'set',
        maxItems: 1,
        block: {
          attributes: {},
          blocks: {
            memory: { nesting: 'set', maxItems: 1, block: { attributes: { enabled: req('bool'), threshold: req('number') } } },
            volume: { nesting: 'set', block: { attributes: { path: req('string'), enabled: req('bool'), threshold: req('number') } } },
          },
        },
      },
    },
  },
};

function validate(config: ObjectValue): Diagnostic[] {
  const diags = [
    ...oneOf(config, 'arch', ARCHES),
    ...oneOf(config, 'os', OSES),
    ...oneOf(config, 'auth', AUTHS),
    ...oneOf(config, 'startup_script_behavior', ['blocking', 'non-blocking']),
    ...oneOf(config, 'api_key_scope', ['all', 'no_user_data']),
    ...atLeast(config, 'connection_timeout', 0),
  ];
  const dir = config.dir;
  if (typeof dir === 'string' && dir !== '' && dir !== '$HOME') {
    diags.push(warning('dir is deprecated', 'Setting dir to a value other than $HOME is deprecated.', ['dir']));
  }
  const seen = new Set<string>();
  const metadata = Array.isArray(config.metadata) ? config.metadata : [];
  for (const [i, m] of metadata.entries()) {
    const key = str(m as ObjectValue, 'key');
    if (key === undefined) continue;
    if (seen.has(key)) diags.push(error(`duplicate agent metadata key "${key}"`, undefined, ['metadata', i, 'key']));
    seen.add(key);
  }
  return diags;
}

/**
 * The original provider reuses a running agent's token for prebuilt workspaces from this variable (named after the
 * SHA-256 of the agent id, which it leaves empty); otherwise every create makes a new token.
 */
export const RUNNING_AGENT_TOKEN_ENV = `CODER_RUNNING_WORKSPACE_AGENT_TOKEN_${createHash('sha256').update('').digest('hex')}`;

/** `CODER_AGENT_SCRIPT_<os>_<arch>` with `${ACCESS_URL}` (the access URL's root, with its slash) and `${AUTH_TYPE}`. */
export function initScript(os: string, arch: string, auth: string, ctx: ProviderContext): string {
  const root = accessRoot(ctx.accessUrl);
  const template = ctx.env[`CODER_AGENT_SCRIPT_${os}_${arch}`] || fallbackScript(os);
  return template.replaceAll('${ACCESS_URL}', root).replaceAll('${AUTH_TYPE}', auth);
}

function accessRoot(accessUrl: string): string {
  try {
    return new URL('/', accessUrl).href;
  } catch {
    return accessUrl;
  }
}

/**
 * Used when the daemon gives no agent script for the platform: start `kiln agent` from PATH with the token the
 * template passes as CODER_AGENT_TOKEN (the variable Coder's templates set), or say plainly why nothing runs.
 */
function fallbackScript(os: string): string {
  if (os === 'windows') {
    return [
      '$env:KILN_AGENT_URL = "${ACCESS_URL}"',
      '$env:CODER_AGENT_AUTH = "${AUTH_TYPE}"',
      'if (-not $env:KILN_AGENT_TOKEN) { $env:KILN_AGENT_TOKEN = $env:CODER_AGENT_TOKEN }',
      'if (-not (Get-Command kiln -ErrorAction SilentlyContinue)) { Write-Error "kiln: no agent script was provided and kiln is not on PATH"; exit 1 }',
      'kiln agent',
      '',
    ].join('\n');
  }
  return [
    '#!/bin/sh',
    '# kiln: the daemon provided no agent script for this platform; run the agent from PATH.',
    'set -eu',
    'export KILN_AGENT_URL="${ACCESS_URL}"',
    'export CODER_AGENT_AUTH="${AUTH_TYPE}"',
    'export KILN_AGENT_TOKEN="${KILN_AGENT_TOKEN:-${CODER_AGENT_TOKEN:-}}"',
    'if ! command -v kiln >/dev/null 2>&1; then',
    '  echo "kiln: no agent script was provided for this platform and kiln is not on PATH" >&2',
    '  exit 1',
    'fi',
    'exec kiln agent',
    '',
  ].join('\n');
}

function scriptFor(o: ObjectValue, ctx: ProviderContext): string {
  return initScript(str(o, 'os') ?? '', str(o, 'arch') ?? '', str(o, 'auth') ?? 'token', ctx);
}

export const agent: ResourceType = {
  name: 'coder_agent',
  schema,
  validate,
  create(planned, ctx) {
    return {
      state: {
        ...planned,
        id: randomUUID(),
        token: ctx.env[RUNNING_AGENT_TOKEN_ENV] || randomUUID(),
        init_script: scriptFor(planned, ctx),
      },
    };
  },
  // The script follows the daemon's environment (the access URL, the agent download) as the original's read does;
  // the token stays: an agent keeps its token for as long as the resource lives.
  read(state, ctx) {
    return { ...state, init_script: scriptFor(state, ctx) };
  },
};
