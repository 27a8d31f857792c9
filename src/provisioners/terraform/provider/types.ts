// What a resource or data source of the provider is made of. The protocol handling (engine.ts) is generic; each type
// only says its schema, how to validate a configuration and what its computed values are.
import type { ObjectValue } from './cty.js';
import type { SchemaSpec } from './schema.js';

export interface Diagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail?: string;
  /** Attribute path: names, list indexes (numbers) or map keys. */
  path?: (string | number)[];
}

/** What the provider knows at run time: its configuration and the environment Terraform gave it. */
export interface ProviderContext {
  env: NodeJS.ProcessEnv;
  /** The access URL as configured (`url`, else CODER_AGENT_URL), verbatim. */
  accessUrl: string;
}

export interface ResourceType {
  name: string;
  schema: SchemaSpec;
  validate?(config: ObjectValue): Diagnostic[];
  /**
   * Fills values known at plan time into a planned new object (computed attributes are already unknown or at their
   * default). Optional.
   */
  planCreate?(planned: ObjectValue, ctx: ProviderContext): ObjectValue;
  /** Resolves every unknown left in the planned object; known planned values must be returned unchanged. */
  create(planned: ObjectValue, ctx: ProviderContext): { state: ObjectValue; diagnostics?: Diagnostic[] };
  /** Re-reads a stored object; the default returns it unchanged. */
  read?(state: ObjectValue, ctx: ProviderContext): ObjectValue;
}

export interface DataSourceType {
  name: string;
  schema: SchemaSpec;
  validate?(config: ObjectValue): Diagnostic[];
  read(config: ObjectValue, ctx: ProviderContext): { state?: ObjectValue; diagnostics?: Diagnostic[] };
}

export const error = (summary: string, detail?: string, path?: (string | number)[]): Diagnostic => ({
  severity: 'error',
  summary,
  ...(detail !== undefined ? { detail } : {}),
  ...(path ? { path } : {}),
});

export const warning = (summary: string, detail?: string, path?: (string | number)[]): Diagnostic => ({
  severity: 'warning',
  summary,
  ...(detail !== undefined ? { detail } : {}),
  ...(path ? { path } : {}),
});
