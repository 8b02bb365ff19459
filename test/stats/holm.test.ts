import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holm, pairedStatistic } from '../../src/stats/index.ts';

// Expected values computed once with statsmodels 0.13.5 (Debian python3-statsmodels):
//   from statsmodels.stats.multitest import multipletests; multipletests(p, method='holm')[1]
const CASES: [number[], number[]][] = [
  [
    [0.01, 0.04, 0.03, 0.005, 0.2],
    [0.04, 0.09, 0.09, 0.025, 0.2],
  ],
  [
    [0.001, 0.5, 0.02, 0.02, 0.04, 0.9, 0.0001],
    [0.006, 1.0, 0.1, 0.1, 0.12, 1.0, 0.0007],
  ],
  [
    [0.3, 0.3, 0.3],
    [0.8999999999999999, 0.8999999999999999, 0.8999999999999999],
  ],
  [
    [0.04, 0.01],
    [0.04, 0.02],
  ],
];

test('Holm-adjusted p-values equal statsmodels multipletests(method="holm")', () => {
  for (const [p, want] of CASES) {
    const got = holm(p);
    assert.equal(got.length, want.length);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-12, `p=${JSON.stringify(p)}[${i}]: want ${want[i]}, got ${g}`));
  }
  assert.deepEqual(holm([]), []);
  const withNaN = holm([0.01, NaN, 0.04]);
  assert.ok(Number.isNaN(withNaN[1]));
  assert.ok(Math.abs(withNaN[0] - 0.02) < 1e-12 && Math.abs(withNaN[2] - 0.04) < 1e-12, 'NaN is not counted in the family');
});

test('pairedStatistic: seeded, the full-sample estimate, and p small for a clear difference', () => {
  const a = Array.from({ length: 100 }, (_, i) => (i % 10 < 8 ? 1 : 0));
  const b = Array.from({ length: 100 }, (_, i) => (i % 10 < 5 ? 1 : 0));
  const stat = (idx: Uint32Array) => {
    let s = 0;
    for (const i of idx) s += a[i] - b[i];
    return s / idx.length;
  };
  const r = pairedStatistic(100, stat, { seed: 3, iterations: 500 });
  assert.ok(Math.abs(r.estimate - 0.3) < 1e-12);
  assert.ok(r.ci[0] > 0.15 && r.ci[1] < 0.45, `ci ${r.ci}`);
  assert.ok(r.p < 0.01);
  assert.deepEqual(pairedStatistic(100, stat, { seed: 3, iterations: 500 }), r);
});
