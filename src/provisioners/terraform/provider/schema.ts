// Schemas of the provider's resources and data sources, written once and turned into both the protocol's Schema
// message and the cty object type that values of that block have on the wire.
import type { CtyType, ObjectValue, Value } from './cty.js';

export interface AttributeSpec {
  type: CtyType;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  /** A deprecation notice; the attribute is still accepted. */
  deprecated?: string;
  /**
   * The value planned when the configuration leaves the attribute null. Attributes with a default are declared
   * optional+computed so that Terraform accepts the provider filling them in (the SDK the original provider uses
   * does the same with its legacy type system flag, which this provider does not set).
   */
  default?: Value;
  description?: string;
}

export type Nesting = 'single' | 'list' | 'set' | 'map' | 'group';

export interface NestedBlockSpec {
  nesting: Nesting;
  block: BlockSpec;
  minItems?: number;
  maxItems?: number;
}

export interface BlockSpec {
  attributes: Record<string, AttributeSpec>;
  blocks?: Record<string, NestedBlockSpec>;
  description?: string;
}

export interface SchemaSpec {
  version: number;
  block: BlockSpec;
}

const NESTING_MODE: Record<Nesting, number> = { single: 1, list: 2, set: 3, map: 4, group: 5 };

/** Attribute shorthands: what the resource files read like. */
export const req = (type: CtyType, extra: Partial<AttributeSpec> = {}): AttributeSpec => ({ type, required: true, ...extra });
export const opt = (type: CtyType, extra: Partial<AttributeSpec> = {}): AttributeSpec => ({ type, optional: true, ...extra });
export const computed = (type: CtyType, extra: Partial<AttributeSpec> = {}): AttributeSpec => ({ type, computed: true, ...extra });
/** Optional with a default: optional+computed (see AttributeSpec.default). */
export const withDefault = (type: CtyType, value: Value, extra: Partial<AttributeSpec> = {}): AttributeSpec => ({
  type,
  optional: true,
  computed: true,
  default: value,
  ...extra,
});

/** The cty type of a block's value: an object of its attributes and nested block collections. */
export function blockType(block: BlockSpec): CtyType {
  const attrs: Record<string, CtyType> = {};
  for (const [name, a] of Object.entries(block.attributes)) attrs[name] = a.type;
  for (const [name, nb] of Object.entries(block.blocks ?? {})) attrs[name] = nestedType(nb);
  return ['object', attrs];
}

export function nestedType(nb: NestedBlockSpec): CtyType {
  const inner = blockType(nb.block);
  switch (nb.nesting) {
    case 'single':
    case 'group':
      return inner;
    case 'list':
      return ['list', inner];
    case 'set':
      return ['set', inner];
    case 'map':
      return ['map', inner];
  }
}

/** The protocol's Schema message (as a plain object for protobufjs). */
export function toProtoSchema(spec: SchemaSpec): Record<string, unknown> {
  return { version: spec.version, block: toProtoBlock(spec.block, spec.version) };
}

function toProtoBlock(block: BlockSpec, version: number): Record<string, unknown> {
  return {
    version,
    description: block.description ?? '',
    attributes: Object.entries(block.attributes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, a]) => ({
        name,
        type: Buffer.from(JSON.stringify(a.type), 'utf8'),
        description: a.description ?? '',
        required: !!a.required,
        optional: !!a.optional,
        computed: !!a.computed,
        sensitive: !!a.sensitive,
        deprecated: !!a.deprecated,
      })),
    blockTypes: Object.entries(block.blocks ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, nb]) => ({
        typeName: name,
        block: toProtoBlock(nb.block, 0),
        nesting: NESTING_MODE[nb.nesting],
        minItems: nb.minItems ?? 0,
        maxItems: nb.maxItems ?? 0,
      })),
  };
}

/** Reads an attribute of an object value as a known string (undefined when null or unknown). */
export function str(v: ObjectValue | null | undefined, name: string): string | undefined {
  const x = v?.[name];
  return typeof x === 'string' ? x : undefined;
}

export function num(v: ObjectValue | null | undefined, name: string): number | undefined {
  const x = v?.[name];
  return typeof x === 'number' ? x : undefined;
}

export function bool(v: ObjectValue | null | undefined, name: string): boolean | undefined {
  const x = v?.[name];
  return typeof x === 'boolean' ? x : undefined;
}
