import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, hashOf, sha256Hex } from '../../src/core/index.ts';

test('canonicalJson sorts keys at every depth, arrays keep their order', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
  assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
});

test('canonicalJson follows JSON.stringify for undefined, functions, toJSON and non-finite numbers', () => {
  assert.equal(canonicalJson({ a: undefined, b: () => 1, c: 1 }), '{"c":1}');
  assert.equal(canonicalJson([undefined, () => 1, NaN, Infinity]), '[null,null,null,null]');
  assert.equal(canonicalJson({ when: new Date(0) }), '{"when":"1970-01-01T00:00:00.000Z"}');
  assert.equal(canonicalJson(undefined), 'null');
  assert.equal(canonicalJson('x'), '"x"');
  class P {
    constructor(
      public y = 1,
      public x = 2,
    ) {}
  }
  assert.equal(canonicalJson(new P()), '{"x":2,"y":1}');
  const value = { z: [1, { b: 'é', a: [true, false] }], a: 'line\nbreak' };
  assert.deepEqual(JSON.parse(canonicalJson(value)), value);
});

test('canonicalJson with an indent pretty-prints the same sorted value', () => {
  assert.equal(canonicalJson({ b: 1, a: [1] }, 2), '{\n  "a": [\n    1\n  ],\n  "b": 1\n}');
});

test('sha256Hex and hashOf', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex(new TextEncoder().encode('abc')), sha256Hex('abc'));
  assert.equal(hashOf({ b: 1, a: 2 }), sha256Hex('{"a":2,"b":1}'));
  assert.equal(hashOf({ a: 2, b: 1 }), hashOf({ b: 1, a: 2, c: undefined }));
  assert.equal(hashOf({ a: 1 }, 16), hashOf({ a: 1 }).slice(0, 16));
});
