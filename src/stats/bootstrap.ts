import { Rng } from '../core/index.ts';

export interface BootstrapOptions {
  /** default 2000 */ iterations?: number;
  /** default 0.95 */ level?: number;
  /** default 0 */ seed?: number;
  /** statistic of a resample (default: mean). The array is reused between calls: do not keep it. */
  statistic?: (sample: Float64Array) => number;
}
export interface Interval {
  estimate: number;
  ci: [number, number];
  iterations: number;
  level: number;
}
export interface PairedResult {
  /** mean(a) - mean(b) */
  diff: number;
  /** percentile bootstrap interval of the difference of means, resampling examples (pairs) */
  ci: [number, number];
  /** two-sided bootstrap p-value for "no difference": 2·min(P*(d ≤ 0), P*(d ≥ 0)), capped at 1 */
  p: number;
  n: number;
  iterations: number;
  level: number;
}

export function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return v.length ? s / v.length : NaN;
}

/** Linear-interpolation percentile (p in 0..1) of the values; the values need not be sorted. */
export function percentile(v: ArrayLike<number>, p: number): number {
  if (!v.length) return NaN;
  const s = Float64Array.from(v as ArrayLike<number>).sort();
  return sortedPercentile(s, p);
}

function sortedPercentile(s: Float64Array, p: number): number {
  const pos = Math.min(Math.max(p, 0), 1) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function checkOpts(o: BootstrapOptions): { iterations: number; level: number; seed: number } {
  const iterations = o.iterations ?? 2000;
  const level = o.level ?? 0.95;
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new RangeError(`bootstrap iterations must be a positive whole number, got ${iterations}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
  return { iterations, level, seed: o.seed ?? 0 };
}

/**
 * Resampled statistics (length = iterations), the core loop shared by bootstrapCI and pairedBootstrap.
 * Indices are drawn from core's seeded Rng.
 */
function resampleStats(x: Float64Array, iterations: number, seed: number, statistic?: (s: Float64Array) => number): Float64Array {
  const n = x.length;
  const out = new Float64Array(iterations);
  const rng = new Rng(seed);
  const sample = statistic ? new Float64Array(n) : undefined;
  for (let it = 0; it < iterations; it++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      if (sample) sample[i] = x[j];
      else s += x[j];
    }
    out[it] = sample ? statistic!(sample) : s / n;
  }
  return out;
}

/**
 * Seeded percentile bootstrap interval of any statistic of the values (default: the mean).
 * For non-numeric data (e.g. macro-F1 over label pairs), encode each item as a number and decode in the statistic.
 */
export function bootstrapCI(values: ArrayLike<number>, opts: BootstrapOptions = {}): Interval {
  const { iterations, level, seed } = checkOpts(opts);
  const x = Float64Array.from(values as ArrayLike<number>);
  if (x.length === 0) return { estimate: NaN, ci: [NaN, NaN], iterations, level };
  const estimate = opts.statistic ? opts.statistic(Float64Array.from(x)) : mean(x);
  const stats = resampleStats(x, iterations, seed, opts.statistic).sort();
  const a = (1 - level) / 2;
  return { estimate, ci: [sortedPercentile(stats, a), sortedPercentile(stats, 1 - a)], iterations, level };
}

/** Paired bootstrap of mean(a) - mean(b) over aligned per-example scores (same examples, same order). */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, opts: Omit<BootstrapOptions, 'statistic'> = {}): PairedResult {
  const { iterations, level, seed } = checkOpts(opts);
  if (a.length !== b.length) throw new RangeError(`paired bootstrap needs aligned arrays, got lengths ${a.length} and ${b.length}`);
  const n = a.length;
  if (n === 0) return { diff: NaN, ci: [NaN, NaN], p: NaN, n, iterations, level };
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = a[i] - b[i];
  const diff = mean(d);
  const stats = resampleStats(d, iterations, seed).sort();
  let le = 0;
  let ge = 0;
  for (let i = 0; i < iterations; i++) {
    if (stats[i] <= 0) le++;
    if (stats[i] >= 0) ge++;
  }
  const p = Math.min(1, (2 * Math.min(le, ge)) / iterations);
  const al = (1 - level) / 2;
  return { diff, ci: [sortedPercentile(stats, al), sortedPercentile(stats, 1 - al)], p, n, iterations, level };
}
