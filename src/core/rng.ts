import { createHash } from 'node:crypto';

/**
 * The one seeded random source: mulberry32, a 32-bit state stepped by 0x6d2b79f5. The state is the
 * seed itself (`seed >>> 0`), so `new Rng(rng.state())` continues the stream where it stopped.
 * The same seed gives the same sequence on every machine.
 */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** uniform in [lo, hi) */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  /** standard normal (Box–Muller) */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** true with probability p */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** one element, uniformly */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  /** a shuffled copy (Fisher–Yates); the input is untouched */
  shuffle<T>(xs: readonly T[]): T[] {
    return this.shuffleInPlace(xs.slice());
  }
  /** shuffles `xs` in place (Fisher–Yates) and returns it */
  shuffleInPlace<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }
  /** k distinct elements: the first k of a shuffled copy */
  sample<T>(xs: readonly T[], k: number): T[] {
    return this.shuffle(xs).slice(0, Math.max(0, Math.min(k, xs.length)));
  }
  /** the 32-bit state; `new Rng(state)` resumes the same stream */
  state(): number {
    return this.a;
  }
}

/** A seeded generator: `new Rng(seed)`. */
export function createRng(seed: number): Rng {
  return new Rng(seed);
}

/**
 * A 32-bit seed derived from a seed and a salt (sha256 of `${seed}\0${salt}`), so independent uses of
 * one user seed (`select:bm25`, `grid`, ...) draw independent streams. Never 0.
 */
export function deriveSeed(seed: number | string, salt = ''): number {
  const h = createHash('sha256').update(`${seed}\u0000${salt}`).digest();
  return h.readUInt32LE(0) || 0x9e3779b9;
}
