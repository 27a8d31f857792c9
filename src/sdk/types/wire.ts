/**
 * The building blocks of kiln's wire shapes. Every request and response shape is written once, as a TypeBox schema in
 * `sdk/types/*`: the same object is the TypeScript type (`Static<typeof X>`), the server's validation and
 * serialization schema, and the OpenAPI document. Helpers here emit the plain JSON Schema kiln has always served
 * (`type: ['string', 'null']` rather than `anyOf`, `enum` rather than unions of `const`), so validation messages and
 * the OpenAPI document stay the ones clients know.
 *
 * Response objects are closed (`additionalProperties: false`): a field a converter adds but the schema lacks is a type
 * error at compile time, and the server rejects it at run time when response checking is on (every test server).
 * Request objects stay open, as Coder's decoder ignores unknown fields, and every string and array in them is bounded
 * (`maxLength`/`maxItems`, see `LIMITS`).
 */
import { Type, type Static, type TObject, type TProperties, type TSchema, type TUnsafe, type ObjectOptions } from '@sinclair/typebox';

export { Type, type Static, type TSchema };

/** Size bounds of request fields, documented in docs/security.md ("Request size limits"). */
export const LIMITS = {
  /** Names and slugs: usernames, template and workspace names, parameter names. */
  name: 128,
  /** Display names, icons, URLs, emails, passwords, short free text. */
  short: 1024,
  /** Descriptions. */
  description: 4 * 1024,
  /** One parameter value, a script, a README-sized text. */
  value: 64 * 1024,
  /** Large text: one log line's output. */
  text: 1024 * 1024,
  /** Base64 provisioner state (the JSON body limit, 2 MiB, bounds it too). */
  state: 2 * 1024 * 1024,
  /** Arrays of parameters, roles, log lines. */
  items: 1000,
  /** Entries of a string map (tags, app healths). */
  entries: 1000,
} as const;

export const Str = (maxLength?: number) => (maxLength === undefined ? Type.String() : Type.String({ maxLength }));
export const Bool = () => Type.Boolean();
export const Int = () => Type.Integer();
export const Num = () => Type.Number();
export const Uuid = () => Type.String({ format: 'uuid' });
export const Time = () => Type.String({ format: 'date-time' });

/** A string that is one of `values`, served as `{type: 'string', enum}`. */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** `T | null`, served as `type: [<T's type>, 'null']`. */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const type = (schema as { type?: unknown }).type;
  if (typeof type !== 'string') throw new Error('Nullable needs a schema with a single type');
  // String keys only: TypeBox's symbol-keyed kind must not survive, the result is a plain JSON schema.
  const plain = Object.fromEntries(Object.entries(schema));
  return Type.Unsafe<Static<T> | null>({ ...plain, type: [type, 'null'] });
}

/** A JSON object of string values (`Record<string, string>`), optionally bounded in entries and value length. */
export function StringMap(bounds: { maxProperties?: number; maxLength?: number } = {}): TUnsafe<Record<string, string>> {
  const values: Record<string, unknown> = { type: 'string' };
  if (bounds.maxLength !== undefined) values.maxLength = bounds.maxLength;
  const out: Record<string, unknown> = { type: 'object', additionalProperties: values };
  if (bounds.maxProperties !== undefined) out.maxProperties = bounds.maxProperties;
  return Type.Unsafe<Record<string, string>>(out);
}

/** A response object: closed, so nothing can be added without the schema knowing it. */
export function Obj<P extends TProperties>(properties: P, options: ObjectOptions = {}): TObject<P> {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** A request object: open (unknown fields are ignored, as in Coder). */
export function Req<P extends TProperties>(properties: P, options: ObjectOptions = {}): TObject<P> {
  return Type.Object(properties, options);
}

export const Arr = <T extends TSchema>(items: T, maxItems?: number) => (maxItems === undefined ? Type.Array(items) : Type.Array(items, { maxItems }));
export const Opt = Type.Optional;
