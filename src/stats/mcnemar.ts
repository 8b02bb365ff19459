export interface McNemarResult {
  /** pairs where a passed and b failed */
  b: number;
  /** pairs where a failed and b passed */
  c: number;
  /** exact two-sided p-value */
  p: number;
}

/** log of the sum of exp(x) over the array, stable. */
function logSumExp(xs: number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return m;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/**
 * Exact two-sided binomial test of k successes in n trials with p = 1/2: min(1, 2·P(X ≤ min(k, n-k))).
 * Terms are summed in log space, so it stays accurate for large n (millions of pairs).
 */
export function binomialTwoSided(k: number, n: number): number {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n)
    throw new RangeError(`binomial test needs whole 0 ≤ k ≤ n, got k=${k} n=${n}`);
  if (n === 0) return 1;
  const m = Math.min(k, n - k);
  if (2 * m === n) return 1;
  const logs: number[] = new Array(m + 1);
  let lt = -n * Math.LN2; // log C(n,0) / 2^n
  logs[0] = lt;
  for (let i = 0; i < m; i++) {
    lt += Math.log(n - i) - Math.log(i + 1);
    logs[i + 1] = lt;
  }
  return Math.min(1, Math.exp(Math.LN2 + logSumExp(logs)));
}

/** Exact McNemar test from the discordant counts b and c (two-sided binomial on b of b+c with p = 1/2). */
export function mcnemarExact(b: number, c: number): number {
  return binomialTwoSided(b, b + c);
}

/** Exact McNemar test on aligned pass/fail arrays of two arms over the same examples. */
export function mcnemar(a: ArrayLike<boolean | number>, bArr: ArrayLike<boolean | number>): McNemarResult {
  if (a.length !== bArr.length) throw new RangeError(`McNemar needs aligned arrays, got lengths ${a.length} and ${bArr.length}`);
  let b = 0;
  let c = 0;
  for (let i = 0; i < a.length; i++) {
    const x = !!a[i];
    const y = !!bArr[i];
    if (x && !y) b++;
    else if (!x && y) c++;
  }
  return { b, c, p: mcnemarExact(b, c) };
}
