import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, createRng, deriveSeed } from '../../src/core/index.ts';

const draws = (seed: number, n: number) => {
  const r = createRng(seed);
  return Array.from({ length: n }, () => r.next());
};

test('the same seed gives the same sequence; another seed another one', () => {
  assert.deepEqual(draws(42, 20), draws(42, 20));
  assert.notDeepEqual(draws(42, 20), draws(43, 20));
  for (const x of draws(7, 1000)) assert.ok(x >= 0 && x < 1);
});

test('the stream is mulberry32 (pinned values: splits and demo numbers depend on them)', () => {
  const r = createRng(1);
  assert.deepEqual(
    [r.next(), r.next(), r.next()].map((x) => Math.round(x * 2 ** 32)),
    [2693262067, 11749833, 2265367787],
  );
});

test('state() resumes the stream', () => {
  const a = createRng(9);
  a.next();
  a.next();
  const b = new Rng(a.state());
  assert.deepEqual([a.next(), a.next()], [b.next(), b.next()]);
});

test('shuffle returns a shuffled copy; shuffleInPlace shuffles its argument', () => {
  const xs = Array.from({ length: 50 }, (_, i) => i);
  const before = xs.slice();
  const s = createRng(3).shuffle(xs);
  assert.deepEqual(xs, before, 'input untouched');
  assert.notDeepEqual(s, before);
  assert.deepEqual(
    s.slice().sort((a, b) => a - b),
    before,
  );
  const inPlace = xs.slice();
  const ret = createRng(3).shuffleInPlace(inPlace);
  assert.equal(ret, inPlace);
  assert.deepEqual(inPlace, s, 'same stream, same order');
});

test('sample, int, pick, uniform, normal', () => {
  const r = createRng(5);
  const xs = ['a', 'b', 'c', 'd', 'e'];
  const s = r.sample(xs, 3);
  assert.equal(s.length, 3);
  assert.equal(new Set(s).size, 3);
  assert.deepEqual(r.sample(xs, 10).sort(), xs);
  assert.deepEqual(r.sample(xs, -1), []);
  for (let i = 0; i < 200; i++) {
    const k = r.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    assert.ok(xs.includes(r.pick(xs)));
    const u = r.uniform(-2, 3);
    assert.ok(u >= -2 && u < 3);
  }
  const ns = Array.from({ length: 4000 }, () => r.normal());
  const mean = ns.reduce((a, b) => a + b, 0) / ns.length;
  const sd = Math.sqrt(ns.reduce((a, b) => a + (b - mean) ** 2, 0) / ns.length);
  assert.ok(Math.abs(mean) < 0.1 && Math.abs(sd - 1) < 0.1, `${mean} ${sd}`);
});

test('deriveSeed: stable, salt-dependent, never 0', () => {
  assert.equal(deriveSeed(1, 'a'), deriveSeed(1, 'a'));
  assert.notEqual(deriveSeed(1, 'a'), deriveSeed(1, 'b'));
  assert.notEqual(deriveSeed(1, 'a'), deriveSeed(2, 'a'));
  assert.ok(deriveSeed('x') > 0);
});
