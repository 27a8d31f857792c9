// The provider's behaviour behind each protocol call, free of gRPC: requests and responses are plain objects in the
// shape of the protocol messages (protocol.ts), DynamicValues are decoded and encoded here.
import {
  type CtyType,
  conform,
  containsUnknown,
  CtyError,
  fromJson,
  fromMsgpack,
  type ObjectValue,
  toMsgpack,
  type Value,
} from './cty.js';
import { externalAuth, provisioner, workspace, workspaceOwner, workspaceTags } from './datasources/workspace.js';
import { parameter } from './datasources/parameter.js';
import { workspacePreset } from './datasources/preset.js';
import { fillComputed, replacePaths } from './plan.js';
import { agent } from './resources/agent.js';
import { app } from './resources/app.js';
import { metadata } from './resources/metadata.js';
import { agentInstance, env, script } from './resources/misc.js';
import { blockType, opt, type SchemaSpec, str, toProtoSchema } from './schema.js';
import { type DataSourceType, type Diagnostic, error, type ProviderContext, type ResourceType } from './types.js';

export const RESOURCES: readonly ResourceType[] = [agent, app, metadata, script, env, agentInstance];
export const DATA_SOURCES: readonly DataSourceType[] = [workspace, workspaceOwner, provisioner, parameter, externalAuth, workspaceTags, workspacePreset];

/** The provider block: `url` is the access URL; the rest were arguments of older releases, accepted and ignored. */
const PROVIDER_SCHEMA: SchemaSpec = {
  version: 0,
  block: {
    attributes: {
      url: opt('string', { description: 'The URL to access Coder (default: CODER_AGENT_URL).' }),
      host: opt('string', { deprecated: 'Accepted for compatibility; ignored.' }),
      feature_use_managed_variables: opt('bool', { deprecated: 'Accepted for compatibility; ignored.' }),
    },
  },
};

/** The original's default when neither `url` nor CODER_AGENT_URL is set. */
const DEFAULT_URL = 'https://mydeployment.coder.com';

export interface DynamicValueMsg {
  msgpack?: Uint8Array;
  json?: Uint8Array;
}

type Req = Record<string, unknown>;
type Res = Record<string, unknown>;

export function decodeDynamic(dv: DynamicValueMsg | null | undefined, t: CtyType): Value {
  if (dv?.msgpack && dv.msgpack.length > 0) return fromMsgpack(dv.msgpack, t);
  if (dv?.json && dv.json.length > 0) return fromJson(dv.json, t);
  return null;
}

export function encodeDynamic(v: Value, t: CtyType): DynamicValueMsg {
  return { msgpack: toMsgpack(v, t) };
}

function diagnosticMsg(d: Diagnostic): Res {
  const msg: Res = { severity: d.severity === 'error' ? 1 : 2, summary: d.summary, detail: d.detail ?? '' };
  if (d.path?.length) {
    msg.attribute = {
      steps: d.path.map((p) => (typeof p === 'number' ? { elementKeyInt: p } : { attributeName: p })),
    };
  }
  return msg;
}

const diags = (list: Diagnostic[]) => list.map(diagnosticMsg);

function failure(e: unknown): Diagnostic[] {
  if (e instanceof CtyError) return [error('Invalid value on the wire', e.message)];
  return [error('Internal error in the coder provider', e instanceof Error ? (e.stack ?? e.message) : String(e))];
}

function asObject(v: Value): ObjectValue | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as ObjectValue) : null;
}

export class CoderProvider {
  private readonly resources = new Map(RESOURCES.map((r) => [r.name, r]));
  private readonly dataSources = new Map(DATA_SOURCES.map((d) => [d.name, d]));
  private ctx: ProviderContext;

  constructor(private readonly env: NodeJS.ProcessEnv) {
    this.ctx = { env, accessUrl: env.CODER_AGENT_URL || DEFAULT_URL };
  }

  getSchema(): Res {
    const schemas = (list: readonly { name: string; schema: SchemaSpec }[]) => Object.fromEntries(list.map((x) => [x.name, toProtoSchema(x.schema)]));
    return {
      provider: toProtoSchema(PROVIDER_SCHEMA),
      resourceSchemas: schemas(RESOURCES),
      dataSourceSchemas: schemas(DATA_SOURCES),
      diagnostics: [],
      serverCapabilities: { planDestroy: false, getProviderSchemaOptional: false, moveResourceState: false },
    };
  }

  getMetadata(): Res {
    return {
      serverCapabilities: { planDestroy: false, getProviderSchemaOptional: false, moveResourceState: false },
      diagnostics: [],
      resources: RESOURCES.map((r) => ({ typeName: r.name })),
      dataSources: DATA_SOURCES.map((d) => ({ typeName: d.name })),
    };
  }

  prepareProviderConfig(req: Req): Res {
    return this.guard(() => {
      const t = blockType(PROVIDER_SCHEMA.block);
      const config = asObject(decodeDynamic(req.config as DynamicValueMsg, t));
      const url = str(config, 'url');
      const problems: Diagnostic[] = [];
      if (url !== undefined && !isUrl(url)) problems.push(error('Invalid url', `${JSON.stringify(url)} is not a valid URL`, ['url']));
      return { preparedConfig: encodeDynamic(config, t), diagnostics: diags(problems) };
    });
  }

  configure(req: Req): Res {
    return this.guard(() => {
      const config = asObject(decodeDynamic(req.config as DynamicValueMsg, blockType(PROVIDER_SCHEMA.block)));
      const url = str(config, 'url') || this.env.CODER_AGENT_URL || DEFAULT_URL;
      if (!isUrl(url)) return { diagnostics: diags([error('Invalid url', `${JSON.stringify(url)} is not a valid URL`, ['url'])]) };
      this.ctx = { env: this.env, accessUrl: url };
      return { diagnostics: [] };
    });
  }

  validateResourceTypeConfig(req: Req): Res {
    return this.guard(() => {
      const r = this.resource(String(req.typeName));
      const config = asObject(decodeDynamic(req.config as DynamicValueMsg, blockType(r.schema.block)));
      return { diagnostics: diags(config && r.validate ? r.validate(config) : []) };
    });
  }

  validateDataSourceConfig(req: Req): Res {
    return this.guard(() => {
      const d = this.dataSource(String(req.typeName));
      const config = asObject(decodeDynamic(req.config as DynamicValueMsg, blockType(d.schema.block)));
      return { diagnostics: diags(config && d.validate ? d.validate(config) : []) };
    });
  }

  /** Stored state as JSON, written by this or any earlier schema: shaped to the current schema, defaults filled. */
  upgradeResourceState(req: Req): Res {
    return this.guard(() => {
      const r = this.resource(String(req.typeName));
      const raw = req.rawState as { json?: Uint8Array; flatmap?: Record<string, string> } | undefined;
      const t = blockType(r.schema.block);
      if (!raw?.json || raw.json.length === 0) {
        if (raw?.flatmap && Object.keys(raw.flatmap).length > 0) {
          return { diagnostics: diags([error('Unsupported state format', 'state in the legacy flatmap format cannot be upgraded')]) };
        }
        return { upgradedState: encodeDynamic(null, t), diagnostics: [] };
      }
      const parsed: unknown = JSON.parse(Buffer.from(raw.json).toString('utf8'));
      const shaped = asObject(conform(parsed, t));
      const upgraded = shaped ? fillComputed(r.schema.block, shaped, 'defaults') : null;
      return { upgradedState: encodeDynamic(upgraded, t), diagnostics: [] };
    });
  }

  readResource(req: Req): Res {
    return this.guard(() => {
      const r = this.resource(String(req.typeName));
      const t = blockType(r.schema.block);
      const current = asObject(decodeDynamic(req.currentState as DynamicValueMsg, t));
      const next = current && r.read ? r.read(current, this.ctx) : current;
      return { newState: encodeDynamic(next, t), diagnostics: [], private: req.private ?? Buffer.alloc(0) };
    });
  }

  planResourceChange(req: Req): Res {
    return this.guard(() => {
      const r = this.resource(String(req.typeName));
      const block = r.schema.block;
      const t = blockType(block);
      const prior = asObject(decodeDynamic(req.priorState as DynamicValueMsg, t));
      const proposed = asObject(decodeDynamic(req.proposedNewState as DynamicValueMsg, t));
      if (proposed === null) return { plannedState: encodeDynamic(null, t), diagnostics: [] };
      if (prior === null) {
        let planned = fillComputed(block, proposed, 'create');
        if (r.planCreate) planned = r.planCreate(planned, this.ctx);
        return { plannedState: encodeDynamic(planned, t), diagnostics: [] };
      }
      const planned = fillComputed(block, proposed, 'update');
      const replace = replacePaths(block, prior, planned);
      return {
        plannedState: encodeDynamic(planned, t),
        requiresReplace: replace.map((name) => ({ steps: [{ attributeName: name }] })),
        diagnostics: [],
      };
    });
  }

  applyResourceChange(req: Req): Res {
    return this.guard(() => {
      const r = this.resource(String(req.typeName));
      const t = blockType(r.schema.block);
      const prior = asObject(decodeDynamic(req.priorState as DynamicValueMsg, t));
      const planned = asObject(decodeDynamic(req.plannedState as DynamicValueMsg, t));
      // Deleting a coder_* object touches nothing outside the state.
      if (planned === null) return { newState: encodeDynamic(null, t), diagnostics: [] };
      // Every argument forces a new object, so an update only ever carries the prior object forward.
      if (prior !== null) return { newState: encodeDynamic(resolveLeftovers(planned, prior), t), diagnostics: [] };
      const created = r.create(planned, this.ctx);
      if (containsUnknown(created.state)) {
        return { diagnostics: diags([error('Internal error in the coder provider', `${r.name}: a value was left unknown after apply`)]) };
      }
      return { newState: encodeDynamic(created.state, t), diagnostics: diags(created.diagnostics ?? []) };
    });
  }

  importResourceState(req: Req): Res {
    return {
      diagnostics: diags([
        error('Import is not supported', `${String(req.typeName)} objects exist only in Terraform state; they cannot be imported`),
      ]),
    };
  }

  readDataSource(req: Req): Res {
    return this.guard(() => {
      const d = this.dataSource(String(req.typeName));
      const t = blockType(d.schema.block);
      const config = asObject(decodeDynamic(req.config as DynamicValueMsg, t));
      const withDefaults = fillComputed(d.schema.block, config ?? {}, 'defaults');
      const result = d.read(withDefaults, this.ctx);
      const problems = result.diagnostics ?? [];
      if (!result.state) return { diagnostics: diags(problems.length ? problems : [error(`${d.name}: no result`)]) };
      return { state: encodeDynamic({ ...withDefaults, ...result.state }, t), diagnostics: diags(problems) };
    });
  }

  private resource(name: string): ResourceType {
    const r = this.resources.get(name);
    if (!r) throw new UnknownType(`resource type ${JSON.stringify(name)} is not provided by kiln's coder provider`);
    return r;
  }

  private dataSource(name: string): DataSourceType {
    const d = this.dataSources.get(name);
    if (!d) throw new UnknownType(`data source ${JSON.stringify(name)} is not provided by kiln's coder provider`);
    return d;
  }

  /** Every failure becomes an error diagnostic: Terraform shows it, the plugin keeps serving. */
  private guard(fn: () => Res): Res {
    try {
      return fn();
    } catch (e) {
      if (e instanceof UnknownType) return { diagnostics: diags([error('Unsupported type', e.message)]) };
      return { diagnostics: diags(failure(e)) };
    }
  }
}

class UnknownType extends Error {}

/** An in-place update keeps the prior computed values where the plan left them unknown. */
function resolveLeftovers(planned: ObjectValue, prior: ObjectValue): ObjectValue {
  const out: ObjectValue = { ...planned };
  for (const [k, v] of Object.entries(out)) if (containsUnknown(v)) out[k] = prior[k] ?? null;
  return out;
}

function isUrl(s: string): boolean {
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}
