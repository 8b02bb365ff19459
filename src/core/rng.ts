import { createHash } from 'node:crypto';

/**
 * The one seeded random source: mulberry32, a 32-bit state stepped by 0x6d2b79f5. The state is the
 * seed itself (`seed >>> 0`), so `createRng(rng.state())` continues the stream where it stopped.
 */
export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** uniform in [lo, hi) */
  uniform(lo?: number, hi?: number): number;
  /** standard normal (Box–Muller) */
  normal(): number;
  /** true with probability p */
  chance(p: number): boolean;
  /** one element, uniformly */
  pick<T>(xs: readonly T[]): T;
  /** a shuffled copy (Fisher–Yates); the input is untouched */
  shuffle<T>(xs: readonly T[]): T[];
  /** shuffles `xs` in place (Fisher–Yates) and returns it */
  shuffleInPlace<T>(xs: T[]): T[];
  /** k distinct elements: the first k of a shuffled copy */
  sample<T>(xs: readonly T[], k: number): T[];
  /** the 32-bit state; `createRng(state)` resumes the same stream */
  state(): number;
}

/** A seeded generator. The same seed gives the same sequence on every machine. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const shuffleInPlace = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = int(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  };
  return {
    next,
    int,
    uniform: (lo = 0, hi = 1) => lo + (hi - lo) * next(),
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    chance: (p) => next() < p,
    pick: (xs) => xs[int(xs.length)],
    shuffle: (xs) => shuffleInPlace(xs.slice()),
    shuffleInPlace,
    sample: (xs, k) => shuffleInPlace(xs.slice()).slice(0, Math.max(0, Math.min(k, xs.length))),
    state: () => a,
  };
}

/**
 * A 32-bit seed derived from a seed and a salt (sha256 of `${seed}\0${salt}`), so independent uses of
 * one user seed (`select:bm25`, `grid`, ...) draw independent streams. Never 0.
 */
export function deriveSeed(seed: number | string, salt = ''): number {
  const h = createHash('sha256').update(`${seed}\u0000${salt}`).digest();
  return h.readUInt32LE(0) || 0x9e3779b9;
}
