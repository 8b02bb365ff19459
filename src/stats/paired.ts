import { createRng } from '../core/index.ts';

export interface PairedStatResult {
  /** the statistic on the full sample */
  estimate: number;
  /** percentile bootstrap interval */
  ci: [number, number];
  /** two-sided bootstrap p-value for "statistic = 0": 2·min(P*(s ≤ 0), P*(s ≥ 0)), capped at 1 */
  p: number;
  n: number;
  iterations: number;
  level: number;
}

/**
 * Seeded paired bootstrap of any statistic of n aligned examples (e.g. macro-F1 of arm A minus macro-F1
 * of arm B on the same resampled examples). `statistic(idx)` receives the resampled example indices
 * (the array is reused between calls: do not keep it); the full sample is 0..n-1.
 */
export function pairedStatistic(
  n: number,
  statistic: (idx: Uint32Array) => number,
  opts: { iterations?: number; level?: number; seed?: number } = {},
): PairedStatResult {
  const iterations = opts.iterations ?? 2000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new RangeError(`bootstrap iterations must be a positive whole number, got ${iterations}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
  if (n === 0) return { estimate: NaN, ci: [NaN, NaN], p: NaN, n, iterations, level };
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const estimate = statistic(idx);
  const rng = createRng(opts.seed ?? 0);
  const stats = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    stats[it] = statistic(idx);
  }
  stats.sort();
  let le = 0;
  let ge = 0;
  for (const s of stats) {
    if (s <= 0) le++;
    if (s >= 0) ge++;
  }
  const q = (p: number) => {
    const pos = p * (iterations - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, iterations - 1);
    return stats[lo] + (stats[hi] - stats[lo]) * (pos - lo);
  };
  const a = (1 - level) / 2;
  return { estimate, ci: [q(a), q(1 - a)], p: Math.min(1, (2 * Math.min(le, ge)) / iterations), n, iterations, level };
}
