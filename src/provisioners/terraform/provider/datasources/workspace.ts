// Data sources that describe the build: the workspace, its owner, the daemon's host. Values come from the
// environment the provisioner gives Terraform (the variables Coder's provisioner sets), with the original's defaults.
import { randomUUID } from 'node:crypto';

import type { Value } from '../cty.js';
import { computed, opt, type SchemaSpec } from '../schema.js';
import { type DataSourceType, error, type ProviderContext } from '../types.js';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const envOr = (ctx: ProviderContext, name: string, fallback: string): string => ctx.env[name] || fallback;

function jsonList(ctx: ProviderContext, name: string): { value: Value; problem?: string } {
  const raw = ctx.env[name];
  if (!raw) return { value: [] };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (Array.isArray(parsed)) return { value: parsed as Value[] };
  } catch {
    // reported below
  }
  return { value: [], problem: `couldn't parse ${name} ${JSON.stringify(raw)}` };
}

function accessPort(url: string): number {
  try {
    const u = new URL(url);
    if (u.port) return Number(u.port);
    return u.protocol === 'https:' ? 443 : 80;
  } catch {
    return 80;
  }
}

const s = (extra = {}) => computed('string', extra);

const workspaceSchema: SchemaSpec = {
  version: 1,
  block: {
    attributes: {
      id: s(),
      name: s(),
      transition: s(),
      start_count: computed('number'),
      prebuild_count: computed('number'),
      is_prebuild: computed('bool'),
      is_prebuild_claim: computed('bool'),
      template_id: s(),
      template_name: s(),
      template_version: s(),
      access_url: s(),
      access_port: computed('number'),
      // Owner attributes of 0.x/1.x releases (moved to coder_workspace_owner in 2.0); still filled for old templates.
      owner: s({ deprecated: 'Use coder_workspace_owner.name instead.' }),
      owner_id: s({ deprecated: 'Use coder_workspace_owner.id instead.' }),
      owner_email: s({ deprecated: 'Use coder_workspace_owner.email instead.' }),
      owner_name: s({ deprecated: 'Use coder_workspace_owner.full_name instead.' }),
      owner_groups: computed(['list', 'string'], { deprecated: 'Use coder_workspace_owner.groups instead.' }),
      owner_session_token: s({ sensitive: true, deprecated: 'Use coder_workspace_owner.session_token instead.' }),
      owner_oidc_access_token: s({ sensitive: true, deprecated: 'Use coder_workspace_owner.oidc_access_token instead.' }),
    },
  },
};

export const workspace: DataSourceType = {
  name: 'coder_workspace',
  schema: workspaceSchema,
  read(_config, ctx) {
    const transition = envOr(ctx, 'CODER_WORKSPACE_TRANSITION', 'start');
    const prebuild = (ctx.env.CODER_WORKSPACE_IS_PREBUILD ?? '').toLowerCase() === 'true';
    const claim = (ctx.env.CODER_WORKSPACE_IS_PREBUILD_CLAIM ?? '').toLowerCase() === 'true';
    const groups = jsonList(ctx, 'CODER_WORKSPACE_OWNER_GROUPS');
    if (groups.problem) return { diagnostics: [error(groups.problem)] };
    return {
      state: {
        id: envOr(ctx, 'CODER_WORKSPACE_ID', randomUUID()),
        name: envOr(ctx, 'CODER_WORKSPACE_NAME', 'default'),
        transition,
        start_count: transition === 'start' ? 1 : 0,
        prebuild_count: prebuild && !claim ? 1 : 0,
        is_prebuild: prebuild && !claim,
        is_prebuild_claim: claim,
        template_id: ctx.env.CODER_WORKSPACE_TEMPLATE_ID ?? '',
        template_name: ctx.env.CODER_WORKSPACE_TEMPLATE_NAME ?? '',
        template_version: ctx.env.CODER_WORKSPACE_TEMPLATE_VERSION ?? '',
        access_url: ctx.accessUrl,
        access_port: accessPort(ctx.accessUrl),
        owner: envOr(ctx, 'CODER_WORKSPACE_OWNER', 'default'),
        owner_id: envOr(ctx, 'CODER_WORKSPACE_OWNER_ID', NIL_UUID),
        owner_email: envOr(ctx, 'CODER_WORKSPACE_OWNER_EMAIL', 'default@example.com'),
        owner_name: envOr(ctx, 'CODER_WORKSPACE_OWNER_NAME', 'default'),
        owner_groups: groups.value,
        owner_session_token: ctx.env.CODER_WORKSPACE_OWNER_SESSION_TOKEN ?? '',
        owner_oidc_access_token: ctx.env.CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN ?? '',
      },
    };
  },
};

export const workspaceOwner: DataSourceType = {
  name: 'coder_workspace_owner',
  schema: {
    version: 0,
    block: {
      attributes: {
        id: s(),
        name: s(),
        full_name: s(),
        email: s(),
        ssh_public_key: s(),
        ssh_private_key: s({ sensitive: true }),
        groups: computed(['list', 'string']),
        session_token: s({ sensitive: true }),
        oidc_access_token: s({ sensitive: true }),
        login_type: s(),
        rbac_roles: computed(['list', ['object', { name: 'string', org_id: 'string' }]]),
      },
    },
  },
  read(_config, ctx) {
    const groups = jsonList(ctx, 'CODER_WORKSPACE_OWNER_GROUPS');
    const roles = jsonList(ctx, 'CODER_WORKSPACE_OWNER_RBAC_ROLES');
    const problem = groups.problem ?? roles.problem;
    if (problem) return { diagnostics: [error(problem)] };
    const rbacRoles = (roles.value as Value[]).map((r) => {
      const o = (typeof r === 'object' && r !== null && !Array.isArray(r) ? r : {}) as Record<string, Value>;
      return { name: typeof o.name === 'string' ? o.name : '', org_id: typeof o.org_id === 'string' ? o.org_id : '' };
    });
    return {
      state: {
        id: envOr(ctx, 'CODER_WORKSPACE_OWNER_ID', randomUUID()),
        name: envOr(ctx, 'CODER_WORKSPACE_OWNER', 'default'),
        full_name: envOr(ctx, 'CODER_WORKSPACE_OWNER_NAME', 'default'),
        email: envOr(ctx, 'CODER_WORKSPACE_OWNER_EMAIL', 'default@example.com'),
        ssh_public_key: ctx.env.CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY ?? '',
        ssh_private_key: ctx.env.CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY ?? '',
        groups: groups.value,
        session_token: ctx.env.CODER_WORKSPACE_OWNER_SESSION_TOKEN ?? '',
        oidc_access_token: ctx.env.CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN ?? '',
        login_type: ctx.env.CODER_WORKSPACE_OWNER_LOGIN_TYPE ?? '',
        rbac_roles: rbacRoles,
      },
    };
  },
};

/** Node's platform and architecture in Go's names, as the original reports runtime.GOOS/GOARCH. */
export function hostPlatform(): { os: string; arch: string } {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm' ? 'armv7' : process.arch === 'ia32' ? '386' : process.arch;
  return { os, arch };
}

export const provisioner: DataSourceType = {
  name: 'coder_provisioner',
  schema: { version: 1, block: { attributes: { id: s(), os: s(), arch: s() } } },
  read: () => ({ state: { id: randomUUID(), ...hostPlatform() } }),
};

export const externalAuth: DataSourceType = {
  name: 'coder_external_auth',
  schema: {
    version: 1,
    block: { attributes: { id: { type: 'string', required: true }, access_token: s({ sensitive: true }), optional: opt('bool') } },
  },
  read: (config, ctx) => ({
    state: { ...config, access_token: ctx.env[`CODER_EXTERNAL_AUTH_ACCESS_TOKEN_${String(config.id)}`] ?? '' },
  }),
};

export const workspaceTags: DataSourceType = {
  name: 'coder_workspace_tags',
  schema: { version: 0, block: { attributes: { id: s(), tags: opt(['map', 'string']) } } },
  read: (config) => ({ state: { ...config, id: randomUUID() } }),
};
