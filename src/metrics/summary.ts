import { bootstrapCI, wilsonInterval } from '../stats/index.ts';
import type { MetricSummary, Scorer } from './types.ts';
import { canonicalLabel } from './text.ts';

/** One per-example result as the summary needs it. */
export interface ResultRow {
  score: number;
  pass: boolean;
  /** the extracted label (classification) */
  extracted?: string;
  /** the example's expected output */
  expected: string;
}

export interface SummarizeOptions {
  /** bootstrap seed (default 0) */
  seed?: number;
  /** bootstrap iterations (default 2000) */
  iterations?: number;
  /** interval level (default 0.95) */
  level?: number;
}

/** Column name in the confusion matrix for outputs where no label was found. */
export const NO_LABEL = '(none)';

export interface ClassificationReport {
  perClass: NonNullable<MetricSummary['perClass']>;
  /** rows = expected, columns = predicted; square over `labels` (+ `(none)` when some output had no label) */
  confusion: NonNullable<MetricSummary['confusion']>;
  macroF1: number;
  accuracy: number;
}

export function macroFromMatrix(m: ArrayLike<number>, K: number, realLabels: number): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < realLabels; i++) {
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < K; j++) {
      support += m[i * K + j];
      predicted += m[j * K + i];
    }
    if (support === 0 && predicted === 0) continue;
    const tp = m[i * K + i];
    const p = predicted ? tp / predicted : 0;
    const r = support ? tp / support : 0;
    sum += p + r > 0 ? (2 * p * r) / (p + r) : 0;
    count++;
  }
  return count ? sum / count : 0;
}

/** Index codes expected*K + predicted, with the label list extended by expected values not listed and by `(none)`. */
export function encode(labels: readonly string[], expected: readonly string[], predicted: readonly (string | undefined)[]) {
  const all = [...labels];
  const exp = expected.map((e) => {
    const c = canonicalLabel(e, all);
    if (c !== undefined) return all.indexOf(c);
    all.push(e);
    return all.length - 1;
  });
  const real = all.length;
  const pred = predicted.map((p) => {
    if (p === undefined) return -1;
    const c = canonicalLabel(p, all);
    return c === undefined ? -1 : all.indexOf(c);
  });
  const hasNone = pred.includes(-1);
  if (hasNone) all.push(NO_LABEL);
  const K = all.length;
  const codes = new Float64Array(exp.length);
  for (let i = 0; i < exp.length; i++) codes[i] = exp[i] * K + (pred[i] < 0 ? K - 1 : pred[i]);
  return { all, real, K, codes };
}

/**
 * Per-class precision/recall/F1, confusion matrix, macro-F1 (mean F1 over labels that occur as expected or predicted)
 * and accuracy. A prediction that is not a label counts in the `(none)` column.
 */
export function classificationReport(
  labels: readonly string[],
  expected: readonly string[],
  predicted: readonly (string | undefined)[],
): ClassificationReport {
  if (expected.length !== predicted.length) throw new RangeError('expected and predicted must be aligned');
  const { all, real, K, codes } = encode(labels, expected, predicted);
  const m = new Float64Array(K * K);
  for (const c of codes) m[c]++;
  return classificationFromMatrix(all, real, K, m, expected.length);
}

/** Per-class precision/recall/F1, the confusion matrix, macro-F1 and accuracy of a K×K count matrix (rows: expected). */
export function classificationFromMatrix(all: string[], real: number, K: number, m: Float64Array, n: number): ClassificationReport {
  const matrix: number[][] = [];
  for (let i = 0; i < K; i++) matrix.push(Array.from(m.subarray(i * K, (i + 1) * K)));
  const perClass: ClassificationReport['perClass'] = {};
  let tpAll = 0;
  for (let i = 0; i < real; i++) {
    let support = 0;
    let pred = 0;
    for (let j = 0; j < K; j++) {
      support += m[i * K + j];
      pred += m[j * K + i];
    }
    const tp = m[i * K + i];
    tpAll += tp;
    const precision = pred ? tp / pred : 0;
    const recall = support ? tp / support : 0;
    perClass[all[i]] = { precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0, support };
  }
  return {
    perClass,
    confusion: { labels: all, matrix },
    macroF1: macroFromMatrix(m, K, real),
    accuracy: n ? tpAll / n : NaN,
  };
}

/**
 * Summarizes per-example results of one arm.
 * value: macro-F1 for the macro-f1 scorer, else the mean score.
 * ci: Wilson interval when every score is 0 or 1 (a proportion), else a seeded percentile bootstrap
 * (macro-F1 is bootstrapped over examples). Classification scorers (with labels) add perClass and confusion.
 * n = 0 gives value NaN and ci [NaN, NaN].
 */
export function summarize(
  scorer: Pick<Scorer, 'name' | 'labels'>,
  results: readonly ResultRow[],
  opts: SummarizeOptions = {},
): MetricSummary {
  const n = results.length;
  const level = opts.level ?? 0.95;
  const bopts = { seed: opts.seed ?? 0, iterations: opts.iterations ?? 2000, level };
  const out: MetricSummary = { name: scorer.name, value: NaN, ci: [NaN, NaN], n };
  if (n === 0) return out;
  if (scorer.labels?.length) {
    const rep = classificationReport(
      scorer.labels,
      results.map((r) => r.expected),
      results.map((r) => r.extracted),
    );
    out.perClass = rep.perClass;
    out.confusion = rep.confusion;
    if (scorer.name === 'macro-f1') {
      const { real, K, codes } = encode(
        scorer.labels,
        results.map((r) => r.expected),
        results.map((r) => r.extracted),
      );
      const m = new Float64Array(K * K);
      const b = bootstrapCI(codes, {
        ...bopts,
        statistic: (s) => {
          m.fill(0);
          for (let i = 0; i < s.length; i++) m[s[i]]++;
          return macroFromMatrix(m, K, real);
        },
      });
      out.value = rep.macroF1;
      out.ci = b.ci;
      return out;
    }
  }
  const scores = Float64Array.from(results, (r) => r.score);
  let sum = 0;
  let binary = true;
  for (const s of scores) {
    sum += s;
    if (s !== 0 && s !== 1) binary = false;
  }
  out.value = sum / n;
  out.ci = binary ? wilsonInterval(sum, n, level) : bootstrapCI(scores, bopts).ci;
  return out;
}
