// Per-arm results as columns: typed arrays of the numbers each row has (score, pass, latency, cost, tokens,
// CPU time, whether the call failed) and codes into one shared string table for the expected and extracted
// labels, so a run of a million results is summarized and compared in a few tens of bytes per row instead
// of one object per row. Example ids and answers (extracted ?? output) are not kept: they are read again,
// lazily, from the rows' source when pairing arms or measuring consistency needs them.
// summarizeColumns and compareColumns compute exactly what summarize and compareOnMetric compute on the
// same rows (same operations in the same order, same seeded draws).
import { bootstrapCI, mcnemar, pairedBootstrap, wilsonInterval } from '../stats/index.ts';
import type { MetricSummary, Scorer } from './types.ts';
import { canonicalLabel } from './text.ts';
import { classificationFromMatrix, macroFromMatrix, NO_LABEL, type ClassificationReport, type SummarizeOptions } from './summary.ts';
import { pairedMacroF1, type CompareOptions, type MetricComparison } from './compare.ts';

/** One stored result row as the columns read it (the store's result record has these fields). */
export interface ColumnRow {
  exampleId: string;
  output: string;
  extracted?: string;
  expected: string;
  score: number;
  pass: boolean;
  error?: string;
  latencyMs: number;
  costUsd: number;
  tokensIn: number;
  tokensOut: number;
  cpuMs?: number | null;
}

/** Strings, each stored once, by code (labels repeat across a million rows). */
export class StringTable {
  readonly strings: string[] = [];
  private readonly codes = new Map<string, number>();
  code(s: string): number {
    let c = this.codes.get(s);
    if (c === undefined) {
      c = this.strings.length;
      this.strings.push(s);
      this.codes.set(s, c);
    }
    return c;
  }
}

export interface ResultColumns {
  readonly n: number;
  /** Uint8Array while every score is 0 or 1 (pass/fail metrics), else Float64Array */
  readonly score: Float64Array | Uint8Array;
  /** 1 = pass */
  readonly pass: Uint8Array;
  /** 1 = the call failed (the row has an error) */
  readonly error: Uint8Array;
  readonly latencyMs: Float64Array;
  readonly costUsd: Float64Array;
  /** whole numbers below 2^32 are held as Uint32Array (the store's are), anything else as Float64Array */
  readonly tokensIn: Float64Array | Uint32Array;
  readonly tokensOut: Float64Array | Uint32Array;
  /** CPU time per row, NaN where none was stored; undefined when no row has one */
  readonly cpuMs: Float64Array | undefined;
  /** codes into `table` (only when built with labels; else empty) */
  readonly expected: Int32Array;
  /** codes into `table`, -1 = no label extracted (only when built with labels; else empty) */
  readonly extracted: Int32Array;
  readonly table: StringTable;
  /** example ids in row order (read again from the source on each call) */
  ids(): string[];
  /** extracted ?? output per row, in row order (read again from the source on each call) */
  answers(): string[];
}

export interface ColumnsOptions {
  /** encode expected and extracted labels (classification metrics) */
  labelled: boolean;
  /** the string table shared by the arms that will be compared (default: a new one) */
  table?: StringTable;
  /** rows expected (capacity hint; the columns grow past it) */
  size?: number;
}

/**
 * Columns of the rows `source()` yields, in that order. `source` is called once now and again each time
 * ids() or answers() is asked for, so it must yield the same rows in the same order each time.
 */
export function resultColumns(source: () => Iterable<ColumnRow>, opts: ColumnsOptions): ResultColumns {
  const table = opts.table ?? new StringTable();
  const labelled = opts.labelled;
  let cap = Math.max(16, opts.size ?? 0);
  let score: Float64Array | Uint8Array = new Uint8Array(cap);
  let pass = new Uint8Array(cap);
  let error = new Uint8Array(cap);
  let latencyMs = new Float64Array(cap);
  let costUsd = new Float64Array(cap);
  let tokensIn: Float64Array | Uint32Array = new Uint32Array(cap);
  let tokensOut: Float64Array | Uint32Array = new Uint32Array(cap);
  // allocated at the first row with CPU time (most runs store none)
  let cpuMs: Float64Array | undefined;
  let expected = new Int32Array(labelled ? cap : 0);
  let extracted = new Int32Array(labelled ? cap : 0);
  const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v < 4294967296 && !Object.is(v, -0);
  const grow = <T extends Float64Array | Uint8Array | Int32Array | Uint32Array>(a: T, size: number): T => {
    const b = new (a.constructor as new (n: number) => T)(size);
    b.set(a);
    return b;
  };
  let n = 0;
  for (const r of source()) {
    if (n === cap) {
      cap *= 2;
      score = grow(score, cap);
      pass = grow(pass, cap);
      error = grow(error, cap);
      latencyMs = grow(latencyMs, cap);
      costUsd = grow(costUsd, cap);
      tokensIn = grow(tokensIn, cap);
      tokensOut = grow(tokensOut, cap);
      if (cpuMs) cpuMs = grow(cpuMs, cap);
      if (labelled) {
        expected = grow(expected, cap);
        extracted = grow(extracted, cap);
      }
    }
    if (score instanceof Uint8Array && !((r.score === 0 && !Object.is(r.score, -0)) || r.score === 1)) score = Float64Array.from(score);
    score[n] = r.score;
    pass[n] = r.pass ? 1 : 0;
    error[n] = r.error ? 1 : 0;
    latencyMs[n] = r.latencyMs;
    costUsd[n] = r.costUsd;
    if (tokensIn instanceof Uint32Array && !isU32(r.tokensIn)) tokensIn = Float64Array.from(tokensIn);
    tokensIn[n] = r.tokensIn;
    if (tokensOut instanceof Uint32Array && !isU32(r.tokensOut)) tokensOut = Float64Array.from(tokensOut);
    tokensOut[n] = r.tokensOut;
    if (r.cpuMs !== undefined && r.cpuMs !== null) {
      if (!cpuMs) cpuMs = new Float64Array(cap).fill(NaN);
      cpuMs[n] = r.cpuMs;
    } else if (cpuMs) cpuMs[n] = NaN;
    if (labelled) {
      expected[n] = table.code(r.expected);
      extracted[n] = r.extracted === undefined ? -1 : table.code(r.extracted);
    }
    n++;
  }
  const fit = <T extends Float64Array | Uint8Array | Int32Array | Uint32Array>(a: T): T => (a.length === n ? a : (a.slice(0, n) as T));
  return {
    n,
    score: fit(score),
    pass: fit(pass),
    error: fit(error),
    latencyMs: fit(latencyMs),
    costUsd: fit(costUsd),
    tokensIn: fit(tokensIn),
    tokensOut: fit(tokensOut),
    cpuMs: cpuMs ? fit(cpuMs) : undefined,
    expected: labelled ? fit(expected) : expected,
    extracted: labelled ? fit(extracted) : extracted,
    table,
    ids: () => Array.from(source(), (r) => r.exampleId),
    answers: () => Array.from(source(), (r) => r.extracted ?? r.output),
  };
}

/** Columns of rows already in memory (tests, callers holding arrays). */
export function columnsOfRows(rows: readonly ColumnRow[], opts: ColumnsOptions): ResultColumns {
  return resultColumns(() => rows, { ...opts, size: rows.length });
}

function needLabels(c: ResultColumns): void {
  if (c.n > 0 && c.expected.length !== c.n) throw new RangeError('these result columns were built without labels');
}

/**
 * encode() of summary.ts on codes: indexes expected*K + predicted, with the label list extended by expected
 * values not listed and by `(none)`. exp[i] is a code into `et`, pred[i] a code into `pt` (-1: none).
 */
function encodeCodes(
  labels: readonly string[],
  et: StringTable,
  exp: ArrayLike<number>,
  pt: StringTable,
  pred: ArrayLike<number>,
  keepCodes = true,
) {
  const all = [...labels];
  const n = exp.length;
  // index in `all` by table code (-2: not looked up yet). A string's index is the same at each of its
  // occurrences (the label list only grows at its end), so each string is looked up once, in row order.
  const expIndex = new Int32Array(et.strings.length).fill(-2);
  for (let i = 0; i < n; i++) {
    const code = exp[i];
    if (expIndex[code] !== -2) continue;
    const s = et.strings[code];
    const c = canonicalLabel(s, all);
    if (c !== undefined) expIndex[code] = all.indexOf(c);
    else {
      all.push(s);
      expIndex[code] = all.length - 1;
    }
  }
  const real = all.length;
  const predIndex = new Int32Array(pt.strings.length).fill(-2);
  let hasNone = false;
  for (let i = 0; i < n; i++) {
    const code = pred[i];
    if (code < 0) {
      hasNone = true;
      continue;
    }
    if (predIndex[code] === -2) {
      const c = canonicalLabel(pt.strings[code], all);
      predIndex[code] = c === undefined ? -1 : all.indexOf(c);
    }
    if (predIndex[code] < 0) hasNone = true;
  }
  if (hasNone) all.push(NO_LABEL);
  const K = all.length;
  // the confusion counts (rows = expected); the per-example codes only when a bootstrap resamples them
  const m = new Float64Array(K * K);
  const codes = keepCodes ? new Float64Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const p = pred[i] < 0 ? -1 : predIndex[pred[i]];
    const code = expIndex[exp[i]] * K + (p < 0 ? K - 1 : p);
    m[code]++;
    if (codes) codes[i] = code;
  }
  return { all, real, K, m, codes };
}

/** classificationReport() of summary.ts on the columns' codes. */
export function classificationOfColumns(labels: readonly string[], c: ResultColumns): ClassificationReport {
  needLabels(c);
  const { all, real, K, m } = encodeCodes(labels, c.table, c.expected, c.table, c.extracted, false);
  return classificationFromMatrix(all, real, K, m, c.n);
}

/** summarize() of summary.ts on one arm's columns: the same summary, number for number. */
export function summarizeColumns(scorer: Pick<Scorer, 'name' | 'labels'>, c: ResultColumns, opts: SummarizeOptions = {}): MetricSummary {
  const n = c.n;
  const level = opts.level ?? 0.95;
  const bopts = { seed: opts.seed ?? 0, iterations: opts.iterations ?? 2000, level };
  const out: MetricSummary = { name: scorer.name, value: NaN, ci: [NaN, NaN], n };
  if (n === 0) return out;
  if (scorer.labels?.length) {
    needLabels(c);
    const macro = scorer.name === 'macro-f1';
    const { all, real, K, m: counts, codes } = encodeCodes(scorer.labels, c.table, c.expected, c.table, c.extracted, macro);
    const rep = classificationFromMatrix(all, real, K, counts, n);
    out.perClass = rep.perClass;
    out.confusion = rep.confusion;
    if (macro) {
      const m = new Float64Array(K * K);
      const b = bootstrapCI(codes!, {
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
  const scores = c.score;
  let sum = 0;
  let binary = true;
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    sum += s;
    if (s !== 0 && s !== 1) binary = false;
  }
  out.value = sum / n;
  out.ci = binary ? wilsonInterval(sum, n, level) : bootstrapCI(scores, bopts).ci;
  return out;
}

/**
 * compareOnMetric() of compare.ts on columns: row ia[i] of `a` and row ib[i] of `b` are the same example
 * (the expected answer is taken from `a`, as compareOnMetric takes it from its first argument).
 */
export function compareColumns(
  scorer: Pick<Scorer, 'name' | 'labels'>,
  a: ResultColumns,
  ia: ArrayLike<number>,
  b: ResultColumns,
  ib: ArrayLike<number>,
  opts: CompareOptions = {},
): MetricComparison {
  if (ia.length !== ib.length) throw new RangeError(`compareColumns needs aligned rows, got ${ia.length} and ${ib.length}`);
  const n = ia.length;
  const bo = { seed: opts.seed ?? 0, iterations: opts.iterations ?? 2000, level: opts.level ?? 0.95 };
  if (scorer.name === 'macro-f1' && scorer.labels?.length) {
    needLabels(a);
    needLabels(b);
    const exp = new Int32Array(n);
    const pa = new Int32Array(n);
    const pb = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      exp[i] = a.expected[ia[i]];
      pa[i] = a.extracted[ia[i]];
      pb[i] = b.extracted[ib[i]];
    }
    const ea = encodeCodes(scorer.labels, a.table, exp, a.table, pa);
    const eb = encodeCodes(scorer.labels, a.table, exp, b.table, pb);
    return pairedMacroF1(n, { codes: ea.codes!, K: ea.K, real: ea.real }, { codes: eb.codes!, K: eb.K, real: eb.real }, bo);
  }
  const sa = new Float64Array(n);
  const sb = new Float64Array(n);
  let binary = true;
  for (let i = 0; i < n; i++) {
    sa[i] = a.score[ia[i]];
    sb[i] = b.score[ib[i]];
    if ((sa[i] !== 0 && sa[i] !== 1) || (sb[i] !== 0 && sb[i] !== 1)) binary = false;
  }
  const pbs = pairedBootstrap(sa, sb, bo);
  if (binary) {
    const xa = new Uint8Array(n);
    const xb = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      xa[i] = a.pass[ia[i]];
      xb[i] = b.pass[ib[i]];
    }
    const mc = mcnemar(xa, xb);
    return { diff: pbs.diff, ci: pbs.ci, p: mc.p, test: 'mcnemar', n, discordant: { aOnly: mc.b, bOnly: mc.c } };
  }
  return { diff: pbs.diff, ci: pbs.ci, p: pbs.p, test: 'paired-bootstrap', n };
}
