import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapCI,
  pairedBootstrap,
  wilsonInterval,
  normalQuantile,
  mcnemarExact,
  mcnemar,
  binomialTwoSided,
  consistency,
  percentile,
  mean,
} from '../../src/stats/index.ts';
import { Rng } from '../../src/core/index.ts';

/** the core generator as a () => number source */
const mulberry32 = (seed: number) => {
  const r = new Rng(seed);
  return () => r.next();
};

const close = (a: number, b: number, tol: number, msg?: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${msg ?? ''} expected ${b} ± ${tol}, got ${a}`);

test('normalQuantile matches known z values', () => {
  close(normalQuantile(0.975), 1.959963984540054, 1e-8);
  close(normalQuantile(0.5), 0, 1e-12);
  close(normalQuantile(0.995), 2.5758293035489, 1e-8);
  close(normalQuantile(0.001), -3.090232306167814, 1e-8);
  close(normalQuantile(0.9), 1.2815515655446004, 1e-8);
});

test('Wilson interval for 8/10, 0/10, 10/10 matches published values', () => {
  const [lo, hi] = wilsonInterval(8, 10);
  close(lo, 0.490162, 1e-5, 'lo');
  close(hi, 0.943318, 1e-5, 'hi');
  const [lo0, hi0] = wilsonInterval(0, 10);
  assert.equal(lo0, 0);
  close(hi0, 0.277533, 1e-5);
  const [lo1, hi1] = wilsonInterval(10, 10);
  close(lo1, 0.722467, 1e-5);
  assert.equal(hi1, 1);
  // 90% level narrower
  const [l90, h90] = wilsonInterval(8, 10, 0.9);
  assert.ok(l90 > lo && h90 < hi);
  assert.deepEqual(wilsonInterval(0, 0), [0, 1]);
  assert.throws(() => wilsonInterval(11, 10), RangeError);
});

test('exact McNemar: b=1,c=9 → p=0.0215; b=2,c=8 → 0.1094; symmetric; ties give 1', () => {
  close(mcnemarExact(1, 9), 0.021484375, 1e-12);
  close(mcnemarExact(9, 1), 0.021484375, 1e-12);
  close(mcnemarExact(2, 8), 0.109375, 1e-12);
  assert.equal(mcnemarExact(0, 0), 1);
  assert.equal(mcnemarExact(5, 5), 1);
  close(mcnemarExact(0, 5), 0.0625, 1e-12);
  close(binomialTwoSided(3, 4), 0.625, 1e-12);
});

test('exact McNemar stays finite and accurate for large n', () => {
  // 4900 vs 5100 discordant: normal approximation with continuity correction gives ~0.0466
  const p = mcnemarExact(4900, 5100);
  assert.ok(p > 0.044 && p < 0.049, `p=${p}`);
  const tiny = mcnemarExact(0, 1_000_000);
  assert.ok(Number.isFinite(tiny) && tiny >= 0 && tiny < 1e-300);
  const even = mcnemarExact(500_000, 500_000);
  assert.equal(even, 1);
  const near = mcnemarExact(499_000, 501_000); // z ≈ 2.0
  assert.ok(near > 0.044 && near < 0.047, `p=${near}`);
});

test('mcnemar counts discordant pairs from pass arrays', () => {
  const a = [true, true, false, false, true, 1, 0];
  const b = [true, false, true, false, false, 0, 0];
  const r = mcnemar(a, b);
  assert.equal(r.b, 3);
  assert.equal(r.c, 1);
  close(r.p, 0.625, 1e-12);
  assert.throws(() => mcnemar([true], []), RangeError);
});

test('bootstrap CI: deterministic per seed, different across seeds, close to normal theory for a proportion', () => {
  const rand = mulberry32(7);
  const v = Array.from({ length: 1000 }, () => (rand() < 0.3 ? 1 : 0));
  const m = mean(v);
  const r1 = bootstrapCI(v, { seed: 1 });
  const r2 = bootstrapCI(v, { seed: 1 });
  const r3 = bootstrapCI(v, { seed: 2 });
  assert.deepEqual(r1, r2);
  assert.notDeepEqual(r1.ci, r3.ci);
  assert.equal(r1.estimate, m);
  assert.equal(r1.iterations, 2000);
  const se = Math.sqrt((m * (1 - m)) / v.length);
  close(r1.ci[0], m - 1.96 * se, 0.006, 'lo');
  close(r1.ci[1], m + 1.96 * se, 0.006, 'hi');
  assert.ok(r1.ci[0] < m && m < r1.ci[1]);
});

test('bootstrap CI of a constant is a point; custom statistic (median) works; empty gives NaN', () => {
  assert.deepEqual(bootstrapCI([0.5, 0.5, 0.5]).ci, [0.5, 0.5]);
  const med = (s: Float64Array) => percentile(s, 0.5);
  const r = bootstrapCI([1, 2, 3, 4, 100], { statistic: med, iterations: 500, seed: 3 });
  assert.equal(r.estimate, 3);
  assert.ok(r.ci[0] >= 1 && r.ci[1] <= 100 && r.ci[0] <= 3 && r.ci[1] >= 3);
  assert.ok(Number.isNaN(bootstrapCI([]).estimate));
  assert.throws(() => bootstrapCI([1], { level: 1.5 }), RangeError);
});

test('bootstrap is fast: 2000 resamples of 10,000 values', () => {
  const v = new Float64Array(10_000).map((_, i) => (i % 3 === 0 ? 1 : 0));
  const t0 = performance.now();
  bootstrapCI(v, { seed: 5 });
  const ms = performance.now() - t0;
  assert.ok(ms < 3000, `took ${ms} ms`);
});

test('paired bootstrap: constant shift gives exact diff and p=0; identical arms give diff 0 and p=1', () => {
  const rand = mulberry32(11);
  const b = Array.from({ length: 200 }, () => rand());
  const a = b.map((x) => x + 0.1);
  const r = pairedBootstrap(a, b, { seed: 4 });
  close(r.diff, 0.1, 1e-12);
  close(r.ci[0], 0.1, 1e-9);
  close(r.ci[1], 0.1, 1e-9);
  assert.equal(r.p, 0);
  const same = pairedBootstrap(b, b);
  assert.equal(same.diff, 0);
  assert.equal(same.p, 1);
  assert.throws(() => pairedBootstrap([1, 2], [1]), RangeError);
});

test('paired bootstrap on binary scores: interval brackets the difference, noisy equal arms not significant', () => {
  const rand = mulberry32(99);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 400; i++) {
    a.push(rand() < 0.8 ? 1 : 0);
    b.push(rand() < 0.6 ? 1 : 0);
  }
  const r = pairedBootstrap(a, b, { seed: 1 });
  assert.ok(r.ci[0] < r.diff && r.diff < r.ci[1]);
  assert.ok(r.ci[0] > 0, 'a clearly better');
  assert.ok(r.p < 0.01);
  const c = a.map(() => (rand() < 0.7 ? 1 : 0));
  const d = a.map(() => (rand() < 0.7 ? 1 : 0));
  assert.ok(pairedBootstrap(c, d, { seed: 1 }).p > 0.05);
});

test('percentile interpolates', () => {
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(percentile([10, 1, 5], 0), 1);
  assert.equal(percentile([10, 1, 5], 1), 10);
  close(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), 9.55, 1e-12);
});

test('run-to-run consistency: all-agree fraction and mean pairwise agreement', () => {
  const r = consistency([
    ['spam', 'spam', 'spam'], // all agree, pairwise 1
    ['spam', 'ham', 'spam'], // pairwise 1/3
    ['a', 'b', 'c'], // pairwise 0
    [' ham', 'ham  '], // normalized agree
    ['only one'], // ignored
  ]);
  assert.equal(r.n, 4);
  close(r.allAgree, 0.5, 1e-12);
  close(r.meanPairwise, (1 + 1 / 3 + 0 + 1) / 4, 1e-12);
  close(r.modalShare, (1 + 2 / 3 + 1 / 3 + 1) / 4, 1e-12);
  assert.deepEqual(r.perExample[1], { allAgree: false, pairwise: 1 / 3, modalShare: 2 / 3 });
});

test('bootstrap resampling draws the mulberry32 stream (matches a naive reference)', () => {
  const v = [0.1, 0.5, 0.9, 0.3, 0.7, 0.2];
  const iterations = 50;
  const rand = mulberry32(123);
  const ref: number[] = [];
  for (let it = 0; it < iterations; it++) {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[Math.floor(rand() * v.length)];
    ref.push(s / v.length);
  }
  ref.sort((a, b) => a - b);
  const r = bootstrapCI(v, { iterations, seed: 123, level: 0.9 });
  close(r.ci[0], percentile(ref, 0.05), 1e-12);
  close(r.ci[1], percentile(ref, 0.95), 1e-12);
  const viaStat = bootstrapCI(v, { iterations, seed: 123, level: 0.9, statistic: (s) => mean(s) });
  close(viaStat.ci[0], r.ci[0], 1e-12);
  close(viaStat.ci[1], r.ci[1], 1e-12);
});
