// The provider's value codec against Terraform's wire format (docs/plugin-protocol/object-wire-format.md): bytes
// written by hand from the format's rules, so the codec is checked against the format and not against itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  conform,
  type CtyType,
  CtyError,
  fromJson,
  fromMsgpack,
  toJson,
  toMsgpack,
  UNKNOWN,
  type Value,
  valuesEqual,
} from '../../src/provisioners/terraform/provider/cty.js';
import { blockType, type BlockSpec } from '../../src/provisioners/terraform/provider/schema.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const str = (s: string) => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s)]).toString('hex');

describe('cty msgpack', () => {
  it('decodes primitives in every form the format allows', () => {
    assert.equal(fromMsgpack(hex(str('hi')), 'string'), 'hi');
    assert.equal(fromMsgpack(hex('05'), 'number'), 5); // positive fixint
    assert.equal(fromMsgpack(hex('d0 fb'), 'number'), -5); // int8
    assert.equal(fromMsgpack(hex('cb 3ff8000000000000'), 'number'), 1.5); // float64
    assert.equal(fromMsgpack(hex(str('2.25')), 'number'), 2.25); // a number written as a decimal string
    assert.equal(fromMsgpack(hex('c3'), 'bool'), true);
    assert.equal(fromMsgpack(hex('c0'), 'string'), null);
  });

  it('reads both unknown encodings and writes the plain one as cty does', () => {
    assert.equal(fromMsgpack(hex('d4 00 00'), 'string'), UNKNOWN);
    // A refined unknown: ext 12 whose payload is the map {1: false} ("definitely not null").
    assert.equal(fromMsgpack(hex('c7 03 0c 81 01 c2'), 'string'), UNKNOWN);
    // Any other extension code is an unknown too.
    assert.equal(fromMsgpack(hex('d4 05 00'), 'number'), UNKNOWN);
    assert.deepEqual(Buffer.from(toMsgpack(UNKNOWN, 'string')), hex('d4 00 00'));
  });

  it('writes an object with every attribute of its type, null for the absent ones', () => {
    const t: CtyType = ['object', { a: 'string', b: 'number' }];
    assert.deepEqual(Buffer.from(toMsgpack({ a: 'x' }, t)), hex(`82 ${str('a')} ${str('x')} ${str('b')} c0`));
  });

  it('decodes an object with unknowns inside, dropping keys the type does not have', () => {
    const t: CtyType = ['object', { a: 'string', b: ['list', 'string'] }];
    const bytes = hex(`83 ${str('a')} d4 00 00 ${str('b')} 92 ${str('x')} d4 00 00 ${str('zz')} 01`);
    assert.deepEqual(fromMsgpack(bytes, t), { a: UNKNOWN, b: ['x', UNKNOWN] });
  });

  it('round-trips nested blocks: list, set, map and single nesting', () => {
    const block: BlockSpec = {
      attributes: { id: { type: 'string', computed: true }, env: { type: ['map', 'string'], optional: true } },
      blocks: {
        item: { nesting: 'list', block: { attributes: { key: { type: 'string', required: true }, n: { type: 'number', optional: true } } } },
        hc: { nesting: 'set', block: { attributes: { url: { type: 'string', required: true } } } },
        byName: { nesting: 'map', block: { attributes: { on: { type: 'bool', optional: true } } } },
        one: { nesting: 'single', block: { attributes: { x: { type: 'string', optional: true } } } },
      },
    };
    const t = blockType(block);
    assert.deepEqual(t, [
      'object',
      {
        id: 'string',
        env: ['map', 'string'],
        item: ['list', ['object', { key: 'string', n: 'number' }]],
        hc: ['set', ['object', { url: 'string' }]],
        byName: ['map', ['object', { on: 'bool' }]],
        one: ['object', { x: 'string' }],
      },
    ]);
    const v: Value = {
      id: UNKNOWN,
      env: { A: 'b', C: UNKNOWN },
      item: [{ key: 'k1', n: 1 }, { key: 'k2', n: null }],
      hc: [{ url: 'http://localhost/healthz' }],
      byName: { first: { on: true } },
      one: null,
    };
    assert.deepEqual(fromMsgpack(toMsgpack(v, t), t), v);
  });

  it('carries a dynamic value as [type JSON bytes, value]', () => {
    const bytes = hex(`92 c4 08 ${Buffer.from('"string"').toString('hex')} ${str('hi')}`);
    const v = fromMsgpack(bytes, 'dynamic');
    assert.deepEqual(v, { dynamicType: 'string', value: 'hi' });
    assert.deepEqual(Buffer.from(toMsgpack(v, 'dynamic')), bytes);
  });

  it('rejects a value of the wrong kind, naming where', () => {
    const t: CtyType = ['object', { a: ['list', 'string'] }];
    assert.throws(() => fromMsgpack(hex(`81 ${str('a')} 92 ${str('x')} 05`), t), (e: Error) => e instanceof CtyError && /a\[1\]/.test(e.message));
    assert.throws(() => toMsgpack({ a: 'not a list' }, t), CtyError);
  });
});

describe('cty JSON', () => {
  const t: CtyType = ['object', { name: 'string', size: 'number', tags: ['set', 'string'], any: 'dynamic' }];

  it('decodes a JSON DynamicValue and writes it back', () => {
    const v = fromJson('{"name":"a","size":3,"tags":["x"],"any":{"type":["list","bool"],"value":[true]}}', t);
    assert.deepEqual(v, { name: 'a', size: 3, tags: ['x'], any: { dynamicType: ['list', 'bool'], value: [true] } });
    assert.deepEqual(JSON.parse(toJson(v, t)), { name: 'a', size: 3, tags: ['x'], any: { type: ['list', 'bool'], value: [true] } });
  });

  it('refuses unknowns, which JSON cannot carry', () => {
    assert.throws(() => toJson({ name: UNKNOWN }, t), CtyError);
  });

  it('shapes a stored state of an older schema to the current one', () => {
    const stored = { name: 'a', size: '3', tags: null, removed_attr: 'x' };
    assert.deepEqual(conform(stored, t), { name: 'a', size: 3, tags: null, any: null });
    assert.equal(conform('true', 'bool'), true);
    assert.equal(conform(7, 'string'), '7');
  });
});

describe('cty equality', () => {
  it('ignores set order but not list order, and treats unknowns as different from everything known', () => {
    assert.ok(valuesEqual(['a', 'b'], ['b', 'a'], ['set', 'string']));
    assert.ok(!valuesEqual(['a', 'b'], ['b', 'a'], ['list', 'string']));
    assert.ok(!valuesEqual(UNKNOWN, 'a', 'string'));
    assert.ok(valuesEqual({ a: null }, {}, ['object', { a: 'string' }]));
    assert.ok(!valuesEqual({ a: '1' }, { a: '1', b: '2' }, ['map', 'string']));
  });
});
