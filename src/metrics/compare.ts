// Paired comparison of two arms on the task's own metric: the difference, its interval and a p-value,
// over the examples both scored. Macro-F1 is compared as macro-F1 (a paired bootstrap of the macro-F1
// difference), not as an accuracy difference.
import { mcnemar, pairedBootstrap, pairedStatistic } from '../stats/index.ts';
import type { Scorer } from './types.ts';
import { encode, macroFromMatrix, type ResultRow } from './summary.ts';

export interface MetricComparison {
  /** metric(a) - metric(b) */
  diff: number;
  ci: [number, number];
  /** two-sided p-value for "no difference" (exact McNemar for pass/fail scores, else paired bootstrap) */
  p: number;
  test: 'mcnemar' | 'paired-bootstrap';
  n: number;
  /** pass/fail metrics: a right and b wrong, and the reverse */
  discordant?: { aOnly: number; bOnly: number };
}

export interface CompareOptions {
  seed?: number;
  iterations?: number;
  level?: number;
}

/**
 * Compare arm a against arm b on aligned rows (row i of both is the same example). For `macro-f1` with labels the
 * difference is macro-F1(a) − macro-F1(b), with a seeded paired bootstrap interval and p-value (examples resampled
 * together); otherwise the difference of mean scores with a paired bootstrap interval, and McNemar's exact p when
 * every score is 0 or 1.
 */
export function compareOnMetric(
  scorer: Pick<Scorer, 'name' | 'labels'>,
  a: readonly ResultRow[],
  b: readonly ResultRow[],
  opts: CompareOptions = {},
): MetricComparison {
  if (a.length !== b.length) throw new RangeError(`compareOnMetric needs aligned rows, got ${a.length} and ${b.length}`);
  const n = a.length;
  const bo = { seed: opts.seed ?? 0, iterations: opts.iterations ?? 2000, level: opts.level ?? 0.95 };
  if (scorer.name === 'macro-f1' && scorer.labels?.length) {
    const expected = a.map((r) => r.expected);
    const ea = encode(
      scorer.labels,
      expected,
      a.map((r) => r.extracted),
    );
    const eb = encode(
      scorer.labels,
      expected,
      b.map((r) => r.extracted),
    );
    // both encodings share the label list (labels + expected values); they differ only in a (none) column
    return pairedMacroF1(n, ea, eb, bo);
  }
  const sa = a.map((r) => r.score);
  const sb = b.map((r) => r.score);
  const pb = pairedBootstrap(sa, sb, bo);
  const binary = [...sa, ...sb].every((s) => s === 0 || s === 1);
  if (binary) {
    const mc = mcnemar(
      a.map((r) => r.pass),
      b.map((r) => r.pass),
    );
    return { diff: pb.diff, ci: pb.ci, p: mc.p, test: 'mcnemar', n, discordant: { aOnly: mc.b, bOnly: mc.c } };
  }
  return { diff: pb.diff, ci: pb.ci, p: pb.p, test: 'paired-bootstrap', n };
}

type Encoded = { codes: ArrayLike<number>; K: number; real: number };

/** Paired bootstrap of the macro-F1 difference between two encodings of the same examples (shared label list). */
export function pairedMacroF1(
  n: number,
  ea: Encoded,
  eb: Encoded,
  bo: { seed: number; iterations: number; level: number },
): MetricComparison {
  const ma = new Float64Array(ea.K * ea.K);
  const mb = new Float64Array(eb.K * eb.K);
  const r = pairedStatistic(
    n,
    (idx) => {
      ma.fill(0);
      mb.fill(0);
      for (let i = 0; i < idx.length; i++) {
        ma[ea.codes[idx[i]]]++;
        mb[eb.codes[idx[i]]]++;
      }
      return macroFromMatrix(ma, ea.K, ea.real) - macroFromMatrix(mb, eb.K, eb.real);
    },
    bo,
  );
  return { diff: r.estimate, ci: r.ci, p: r.p, test: 'paired-bootstrap', n };
}
