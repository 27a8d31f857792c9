// Terraform's value wire format (cty) for the provider protocol's DynamicValue: MessagePack, with JSON as the fallback
// Terraform may send. Decoding and encoding are driven by the type, as Terraform's own codec is: an object is always
// written with every attribute of its type, a number may arrive as an int, a float or a decimal string, and any
// MessagePack extension value is an unknown (code 0 plain, code 12 refined; refinements are only hints and are dropped).
import { decode, encode, ExtData, ExtensionCodec } from '@msgpack/msgpack';

/** A cty type in Terraform's compact JSON form (the `type` bytes of a schema attribute). */
export type CtyType =
  | 'string'
  | 'number'
  | 'bool'
  | 'dynamic'
  | readonly ['list' | 'set' | 'map', CtyType]
  | readonly ['object', Readonly<Record<string, CtyType>>]
  | readonly ['object', Readonly<Record<string, CtyType>>, readonly string[]]
  | readonly ['tuple', readonly CtyType[]];

/** The placeholder for a value decided only during apply. */
export const UNKNOWN: unique symbol = Symbol('cty.unknown');
export type Unknown = typeof UNKNOWN;

/** A value of the `dynamic` type carries its own type. */
export interface DynamicVal {
  readonly dynamicType: CtyType;
  readonly value: Value;
}

export type Value = null | Unknown | string | number | boolean | Value[] | { [key: string]: Value } | DynamicVal;
export type ObjectValue = { [key: string]: Value };

export class CtyError extends Error {}

export function isUnknown(v: unknown): v is Unknown {
  return v === UNKNOWN;
}

export function isDynamicVal(v: unknown): v is DynamicVal {
  return typeof v === 'object' && v !== null && 'dynamicType' in v && !Array.isArray(v);
}

/** True when a value holds an unknown anywhere inside it. */
export function containsUnknown(v: Value): boolean {
  if (v === UNKNOWN) return true;
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (isDynamicVal(v)) return containsUnknown(v.value);
  return Object.values(v).some(containsUnknown);
}

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: 0,
  // cty writes an unknown as fixext1 with code 0 and one zero byte; we write the same bytes.
  encode: (input: unknown) => (input === UNKNOWN ? new Uint8Array([0]) : null),
  decode: () => UNKNOWN,
});

function kind(t: CtyType): string {
  return typeof t === 'string' ? t : t[0];
}

function typeError(t: CtyType, got: unknown, path: string): CtyError {
  return new CtyError(`${path || 'value'}: expected ${JSON.stringify(t)}, got ${describe(got)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}

/** Parses a type from its JSON form (schema bytes, or the first element of a dynamic value). */
export function parseType(json: unknown): CtyType {
  if (json === 'string' || json === 'number' || json === 'bool' || json === 'dynamic') return json;
  if (Array.isArray(json) && json.length >= 2) {
    const [k, arg] = json as [unknown, unknown];
    if (k === 'list' || k === 'set' || k === 'map') return [k, parseType(arg)];
    if (k === 'object' && typeof arg === 'object' && arg !== null && !Array.isArray(arg)) {
      const attrs: Record<string, CtyType> = {};
      for (const [name, at] of Object.entries(arg)) attrs[name] = parseType(at);
      return ['object', attrs];
    }
    if (k === 'tuple' && Array.isArray(arg)) return ['tuple', arg.map(parseType)];
  }
  throw new CtyError(`unsupported type ${JSON.stringify(json)}`);
}

// ---- MessagePack ---------------------------------------------------------------------------------------------

/** Decodes a MessagePack DynamicValue of type `t`. */
export function fromMsgpack(bytes: Uint8Array, t: CtyType): Value {
  const raw = decode(bytes, { extensionCodec, useBigInt64: false });
  return fromRaw(raw, t, '', true);
}

/** Encodes a value of type `t` as MessagePack. */
export function toMsgpack(v: Value, t: CtyType): Uint8Array {
  return encode(toRaw(v, t, ''), { extensionCodec, ignoreUndefined: false });
}

function fromRaw(raw: unknown, t: CtyType, path: string, msgpack: boolean): Value {
  if (raw === null || raw === undefined) return null;
  if (raw === UNKNOWN || raw instanceof ExtData) {
    if (!msgpack) throw new CtyError(`${path || 'value'}: unknown values cannot appear in JSON`);
    return UNKNOWN;
  }
  switch (kind(t)) {
    case 'string':
      if (typeof raw !== 'string') throw typeError(t, raw, path);
      return raw;
    case 'number':
      if (typeof raw === 'number') return raw;
      if (typeof raw === 'bigint') return Number(raw);
      if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
      throw typeError(t, raw, path);
    case 'bool':
      if (typeof raw !== 'boolean') throw typeError(t, raw, path);
      return raw;
    case 'list':
    case 'set': {
      if (!Array.isArray(raw)) throw typeError(t, raw, path);
      const et = (t as readonly [string, CtyType])[1];
      return raw.map((e, i) => fromRaw(e, et, `${path}[${i}]`, msgpack));
    }
    case 'tuple': {
      const ets = (t as readonly ['tuple', readonly CtyType[]])[1];
      if (!Array.isArray(raw) || raw.length !== ets.length) throw typeError(t, raw, path);
      return raw.map((e, i) => fromRaw(e, ets[i] as CtyType, `${path}[${i}]`, msgpack));
    }
    case 'map': {
      if (!isPlainObject(raw)) throw typeError(t, raw, path);
      const et = (t as readonly ['map', CtyType])[1];
      const out: ObjectValue = {};
      for (const [k, e] of Object.entries(raw)) out[k] = fromRaw(e, et, `${path}["${k}"]`, msgpack);
      return out;
    }
    case 'object': {
      if (!isPlainObject(raw)) throw typeError(t, raw, path);
      const attrs = (t as readonly ['object', Record<string, CtyType>])[1];
      const out: ObjectValue = {};
      for (const [name, at] of Object.entries(attrs)) out[name] = fromRaw(raw[name], at, path ? `${path}.${name}` : name, msgpack);
      return out;
    }
    case 'dynamic': {
      if (msgpack) {
        if (!Array.isArray(raw) || raw.length !== 2 || !(raw[0] instanceof Uint8Array)) throw typeError(t, raw, path);
        const dt = parseType(JSON.parse(Buffer.from(raw[0]).toString('utf8')));
        return { dynamicType: dt, value: fromRaw(raw[1], dt, path, msgpack) };
      }
      if (!isPlainObject(raw) || !('type' in raw)) throw typeError(t, raw, path);
      const dt = parseType(raw.type);
      return { dynamicType: dt, value: fromRaw(raw.value, dt, path, msgpack) };
    }
    default:
      throw new CtyError(`unsupported type ${JSON.stringify(t)}`);
  }
}

function toRaw(v: Value, t: CtyType, path: string): unknown {
  if (v === null) return null;
  if (v === UNKNOWN) return UNKNOWN;
  switch (kind(t)) {
    case 'string':
      if (typeof v !== 'string') throw typeError(t, v, path);
      return v;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw typeError(t, v, path);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw typeError(t, v, path);
      return v;
    case 'list':
    case 'set': {
      if (!Array.isArray(v)) throw typeError(t, v, path);
      const et = (t as readonly [string, CtyType])[1];
      return v.map((e, i) => toRaw(e, et, `${path}[${i}]`));
    }
    case 'tuple': {
      const ets = (t as readonly ['tuple', readonly CtyType[]])[1];
      if (!Array.isArray(v) || v.length !== ets.length) throw typeError(t, v, path);
      return v.map((e, i) => toRaw(e, ets[i] as CtyType, `${path}[${i}]`));
    }
    case 'map': {
      if (!isPlainObject(v)) throw typeError(t, v, path);
      const et = (t as readonly ['map', CtyType])[1];
      const out: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v)) out[k] = toRaw(e, et, `${path}["${k}"]`);
      return out;
    }
    case 'object': {
      if (!isPlainObject(v)) throw typeError(t, v, path);
      const attrs = (t as readonly ['object', Record<string, CtyType>])[1];
      const out: Record<string, unknown> = {};
      for (const [name, at] of Object.entries(attrs)) out[name] = toRaw(v[name] ?? null, at, path ? `${path}.${name}` : name);
      return out;
    }
    case 'dynamic': {
      if (!isDynamicVal(v)) throw typeError(t, v, path);
      return [Buffer.from(JSON.stringify(v.dynamicType), 'utf8'), toRaw(v.value, v.dynamicType, path)];
    }
    default:
      throw new CtyError(`unsupported type ${JSON.stringify(t)}`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !isDynamicVal(v);
}

// ---- JSON ----------------------------------------------------------------------------------------------------

/** Decodes a JSON DynamicValue (or a state's raw JSON, already shaped to `t`) of type `t`. */
export function fromJson(text: string | Uint8Array, t: CtyType): Value {
  const parsed: unknown = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
  return fromRaw(parsed, t, '', false);
}

/** Encodes a wholly known value of type `t` as JSON. */
export function toJson(v: Value, t: CtyType): string {
  if (containsUnknown(v)) throw new CtyError('unknown values cannot be written as JSON');
  return JSON.stringify(toJsonRaw(v, t));
}

function toJsonRaw(v: Value, t: CtyType): unknown {
  if (kind(t) === 'dynamic' && isDynamicVal(v)) return { type: v.dynamicType, value: toJsonRaw(v.value, v.dynamicType) };
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const ets = kind(t) === 'tuple' ? (t as readonly ['tuple', readonly CtyType[]])[1] : null;
    const et = (t as readonly [string, CtyType])[1];
    return v.map((e, i) => toJsonRaw(e, ets ? (ets[i] as CtyType) : et));
  }
  const out: Record<string, unknown> = {};
  if (kind(t) === 'object') {
    const attrs = (t as readonly ['object', Record<string, CtyType>])[1];
    for (const [name, at] of Object.entries(attrs)) out[name] = toJsonRaw((v as ObjectValue)[name] ?? null, at);
  } else {
    const et = (t as readonly ['map', CtyType])[1];
    for (const [k, e] of Object.entries(v as ObjectValue)) out[k] = toJsonRaw(e, et);
  }
  return out;
}

/**
 * Shapes loosely typed JSON (a stored state written by an older schema) to `t`: attributes the type does not have
 * are dropped, missing ones become null, and a value of the wrong primitive kind is converted where Terraform would
 * convert it (number ↔ string, "true"/"false").
 */
export function conform(raw: unknown, t: CtyType): Value {
  if (raw === null || raw === undefined) return null;
  switch (kind(t)) {
    case 'string':
      return typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : null;
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      return Number.isFinite(n) ? n : null;
    }
    case 'bool':
      return typeof raw === 'boolean' ? raw : raw === 'true' ? true : raw === 'false' ? false : null;
    case 'list':
    case 'set': {
      const et = (t as readonly [string, CtyType])[1];
      return Array.isArray(raw) ? raw.map((e) => conform(e, et)) : null;
    }
    case 'tuple': {
      const ets = (t as readonly ['tuple', readonly CtyType[]])[1];
      return Array.isArray(raw) && raw.length === ets.length ? raw.map((e, i) => conform(e, ets[i] as CtyType)) : null;
    }
    case 'map': {
      if (!isPlainObject(raw)) return null;
      const et = (t as readonly ['map', CtyType])[1];
      const out: ObjectValue = {};
      for (const [k, e] of Object.entries(raw)) out[k] = conform(e, et);
      return out;
    }
    case 'object': {
      if (!isPlainObject(raw)) return null;
      const attrs = (t as readonly ['object', Record<string, CtyType>])[1];
      const out: ObjectValue = {};
      for (const [name, at] of Object.entries(attrs)) out[name] = conform(raw[name], at);
      return out;
    }
    case 'dynamic':
      return isPlainObject(raw) && 'type' in raw ? fromRaw(raw, t, '', false) : null;
    default:
      return null;
  }
}

/** Deep equality of two values (unknowns equal only each other; set order is ignored). */
export function valuesEqual(a: Value, b: Value, t: CtyType): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === UNKNOWN || b === UNKNOWN) return false;
  switch (kind(t)) {
    case 'list':
    case 'tuple': {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      const ets = kind(t) === 'tuple' ? (t as readonly ['tuple', readonly CtyType[]])[1] : null;
      const et = (t as readonly [string, CtyType])[1];
      return a.every((e, i) => valuesEqual(e, b[i] as Value, ets ? (ets[i] as CtyType) : et));
    }
    case 'set': {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      const et = (t as readonly ['set', CtyType])[1];
      const used = new Set<number>();
      return a.every((e) => {
        const j = b.findIndex((f, k) => !used.has(k) && valuesEqual(e, f, et));
        if (j < 0) return false;
        used.add(j);
        return true;
      });
    }
    case 'map':
    case 'object': {
      if (!isPlainObject(a) || !isPlainObject(b)) return false;
      const names =
        kind(t) === 'object'
          ? Object.keys((t as readonly ['object', Record<string, CtyType>])[1])
          : [...new Set([...Object.keys(a), ...Object.keys(b)])];
      return names.every((n) => {
        const at = kind(t) === 'object' ? ((t as readonly ['object', Record<string, CtyType>])[1][n] as CtyType) : (t as readonly ['map', CtyType])[1];
        if (kind(t) === 'map' && (!(n in a) || !(n in b))) return false;
        return valuesEqual((a as ObjectValue)[n] ?? null, (b as ObjectValue)[n] ?? null, at);
      });
    }
    case 'dynamic':
      return isDynamicVal(a) && isDynamicVal(b) && JSON.stringify(a.dynamicType) === JSON.stringify(b.dynamicType) && valuesEqual(a.value, b.value, a.dynamicType);
    default:
      return false;
  }
}
