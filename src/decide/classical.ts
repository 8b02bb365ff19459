// The classical text-classification baselines: the majority class, and TF-IDF (word 1–2-grams and
// character 3–5-grams, hashed) with a one-vs-rest linear SVM (L2-regularised squared hinge, solved by
// dual coordinate descent as in LIBLINEAR), the regularisation C chosen on dev. Fitted on train only.
// Small and dependency-free: ~1000 documents fit in about a second.
import { createRng } from '../core/index.ts';

export interface LabeledText {
  text: string;
  label: string;
}

/** The most frequent label (ties: the label that sorts first), with its count. */
export function majorityLabel(labels: readonly string[]): { label: string; count: number } {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let best: { label: string; count: number } | undefined;
  for (const [label, count] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
    if (!best || count > best.count) best = { label, count };
  if (!best) throw new RangeError('majorityLabel needs at least one label');
  return best;
}

// ---------------------------------------------------------------------------------------------
// Features

const BITS = 20;
const DIM = 1 << BITS;
const MASK = DIM - 1;

/** Sparse vector: sorted feature indices and their values. */
export interface Sparse {
  idx: Int32Array;
  val: Float64Array;
}

export interface FeatureOptions {
  /** characters of each text used (default 20000) */
  maxChars?: number;
  /** word n-gram range (default [1, 2]) */
  word?: [number, number];
  /** character n-gram range inside word boundaries (default [3, 5]); [0, 0] turns them off */
  char?: [number, number];
}

const FNV = 0x811c9dc5;
function fnvStep(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193) >>> 0;
}
function hashStr(s: string, salt: number): number {
  let h = fnvStep(FNV, salt);
  for (let i = 0; i < s.length; i++) h = fnvStep(h, s.charCodeAt(i));
  return h;
}

/** Raw term counts of one text, by hashed feature index. */
function termCounts(text: string, o: Required<FeatureOptions>): Map<number, number> {
  const t = text.slice(0, o.maxChars).toLowerCase();
  const words = t.match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu) ?? [];
  const m = new Map<number, number>();
  const add = (h: number) => {
    const k = h & MASK;
    m.set(k, (m.get(k) ?? 0) + 1);
  };
  const [w0, w1] = o.word;
  const wh = words.map((w) => hashStr(w, 1));
  for (let n = w0; n <= w1 && n > 0; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      let h = fnvStep(FNV, 100 + n);
      for (let j = 0; j < n; j++) h = fnvStep(h, wh[i + j]);
      add(h);
    }
  }
  const [c0, c1] = o.char;
  if (c1 > 0) {
    for (const w of words) {
      const s = ` ${w} `;
      for (let i = 0; i < s.length; i++) {
        let h = fnvStep(FNV, 7);
        for (let n = 1; n <= c1 && i + n <= s.length; n++) {
          h = fnvStep(h, s.charCodeAt(i + n - 1));
          if (n >= c0) add(fnvStep(h, 200 + n));
        }
      }
    }
  }
  return m;
}

/** TF-IDF vectorizer fitted on a corpus: sublinear tf (1 + ln tf), smooth idf ln((1+n)/(1+df)) + 1, L2-normalised rows. */
export class TfidfVectorizer {
  private idf = new Map<number, number>();
  private o: Required<FeatureOptions>;
  constructor(opts: FeatureOptions = {}) {
    this.o = { maxChars: opts.maxChars ?? 20000, word: opts.word ?? [1, 2], char: opts.char ?? [3, 5] };
  }
  fit(texts: readonly string[]): Sparse[] {
    const counts = texts.map((t) => termCounts(t, this.o));
    const df = new Map<number, number>();
    for (const c of counts) for (const k of c.keys()) df.set(k, (df.get(k) ?? 0) + 1);
    const n = texts.length;
    this.idf.clear();
    for (const [k, d] of df) this.idf.set(k, Math.log((1 + n) / (1 + d)) + 1);
    return counts.map((c) => this.vector(c));
  }
  transform(text: string): Sparse {
    return this.vector(termCounts(text, this.o));
  }
  private vector(c: Map<number, number>): Sparse {
    const keys: number[] = [];
    for (const k of c.keys()) if (this.idf.has(k)) keys.push(k);
    keys.sort((a, b) => a - b);
    const idx = Int32Array.from(keys);
    const val = new Float64Array(keys.length);
    let norm = 0;
    keys.forEach((k, i) => {
      const v = (1 + Math.log(c.get(k)!)) * this.idf.get(k)!;
      val[i] = v;
      norm += v * v;
    });
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < val.length; i++) val[i] /= norm;
    return { idx, val };
  }
}

// ---------------------------------------------------------------------------------------------
// One-vs-rest linear SVM

/** Compact column space: feature index → dense column (only features seen in training get weights). */
function columnMap(xs: readonly Sparse[]): Map<number, number> {
  const cols = new Map<number, number>();
  for (const x of xs) for (const k of x.idx) if (!cols.has(k)) cols.set(k, cols.size);
  return cols;
}

interface Dense {
  cols: Int32Array[];
  val: Float64Array[];
}

function densify(xs: readonly Sparse[], cols: Map<number, number>): Dense {
  return {
    cols: xs.map((x) => {
      const out = new Int32Array(x.idx.length);
      for (let i = 0; i < x.idx.length; i++) out[i] = cols.get(x.idx[i]) ?? -1;
      return out;
    }),
    val: xs.map((x) => x.val),
  };
}

/**
 * L2-regularised squared-hinge SVM, dual coordinate descent (Hsieh et al. 2008, LIBLINEAR's -s 1), with a bias
 * feature of value 1; stops when the projected-gradient spread falls below LIBLINEAR's default eps 0.1. y in {-1, +1}. Returns weights over the dense columns and the bias weight (last entry).
 */
function trainBinarySvm(d: Dense, y: Int8Array, dim: number, C: number, seed: number, maxIter = 100, eps = 0.1): Float64Array {
  const n = y.length;
  const w = new Float64Array(dim + 1);
  const alpha = new Float64Array(n);
  const Dii = 1 / (2 * C);
  const Q = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 1; // bias feature
    for (const v of d.val[i]) s += v * v;
    Q[i] = s + Dii;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = createRng(seed);
  for (let iter = 0; iter < maxIter; iter++) {
    rng.shuffleInPlace(order);
    let maxPG = -Infinity;
    let minPG = Infinity;
    for (const i of order) {
      const ci = d.cols[i];
      const vi = d.val[i];
      let dot = w[dim];
      for (let k = 0; k < ci.length; k++) if (ci[k] >= 0) dot += w[ci[k]] * vi[k];
      const G = y[i] * dot - 1 + Dii * alpha[i];
      const PG = alpha[i] === 0 ? Math.min(G, 0) : G;
      if (PG > maxPG) maxPG = PG;
      if (PG < minPG) minPG = PG;
      if (Math.abs(PG) > 1e-12) {
        const old = alpha[i];
        alpha[i] = Math.max(old - G / Q[i], 0);
        const delta = (alpha[i] - old) * y[i];
        for (let k = 0; k < ci.length; k++) if (ci[k] >= 0) w[ci[k]] += delta * vi[k];
        w[dim] += delta;
      }
    }
    if (maxPG - minPG < eps) break;
  }
  return w;
}

export interface LinearClassifier {
  labels: string[];
  /** one decision value per label */
  decision(x: Sparse): number[];
  predict(x: Sparse): string;
}

export function trainOvrSvm(xs: readonly Sparse[], ys: readonly string[], C: number, seed = 0): LinearClassifier {
  const labels = [...new Set(ys)].sort();
  const cols = columnMap(xs);
  const d = densify(xs, cols);
  const dim = cols.size;
  // two labels: one classifier (the second label's decision is its negation); more: one per label
  let ws: Float64Array[];
  if (labels.length === 1) ws = [new Float64Array(dim + 1)];
  else if (labels.length === 2) {
    const w = trainBinarySvm(
      d,
      Int8Array.from(ys, (y) => (y === labels[0] ? 1 : -1)),
      dim,
      C,
      seed,
    );
    ws = [w, w.map((x) => -x)];
  } else
    ws = labels.map((l, j) =>
      trainBinarySvm(
        d,
        Int8Array.from(ys, (y) => (y === l ? 1 : -1)),
        dim,
        C,
        seed + j,
      ),
    );
  const decision = (x: Sparse) => {
    const c = new Int32Array(x.idx.length);
    for (let i = 0; i < x.idx.length; i++) c[i] = cols.get(x.idx[i]) ?? -1;
    return ws.map((w) => {
      let s = w[dim];
      for (let k = 0; k < c.length; k++) if (c[k] >= 0) s += w[c[k]] * x.val[k];
      return s;
    });
  };
  return {
    labels,
    decision,
    predict(x) {
      const s = decision(x);
      let b = 0;
      for (let i = 1; i < s.length; i++) if (s[i] > s[b]) b = i;
      return labels[b];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The baseline as a whole

export interface ClassicalOptions extends FeatureOptions {
  /** regularisation values tried on dev (default 0.01, 0.1, 1, 10, 100) */
  cs?: number[];
  seed?: number;
  /** dev score of predictions (default accuracy); the C with the highest dev score wins (ties: the smaller C) */
  score?: (expected: readonly string[], predicted: readonly string[]) => number;
}

export interface ClassicalModel {
  kind: 'tfidf-linear-svm';
  labels: string[];
  /** the chosen regularisation */
  c: number;
  /** dev score per C tried (empty when dev is empty: C = 1) */
  dev: { c: number; score: number }[];
  trainSize: number;
  fitMs: number;
  predict(text: string): string;
}

export const accuracyOf = (e: readonly string[], p: readonly string[]) =>
  e.length ? e.filter((x, i) => x === p[i]).length / e.length : NaN;

/** Fit the TF-IDF + linear SVM baseline on train, choosing C on dev. */
export function fitClassical(train: readonly LabeledText[], dev: readonly LabeledText[], opts: ClassicalOptions = {}): ClassicalModel {
  const t0 = performance.now();
  if (!train.length) throw new RangeError('the classical baseline needs training examples');
  const vec = new TfidfVectorizer(opts);
  const xs = vec.fit(train.map((t) => t.text));
  const ys = train.map((t) => t.label);
  const cs = opts.cs ?? [0.01, 0.1, 1, 10, 100];
  const score = opts.score ?? accuracyOf;
  const seed = opts.seed ?? 0;
  const devScores: { c: number; score: number }[] = [];
  let best: { c: number; score: number; clf: LinearClassifier } | undefined;
  if (dev.length) {
    const dx = dev.map((d) => vec.transform(d.text));
    const de = dev.map((d) => d.label);
    for (const c of cs) {
      const clf = trainOvrSvm(xs, ys, c, seed);
      const s = score(
        de,
        dx.map((x) => clf.predict(x)),
      );
      devScores.push({ c, score: s });
      if (!best || s > best.score) best = { c, score: s, clf };
    }
  }
  const clf = best?.clf ?? trainOvrSvm(xs, ys, 1, seed);
  return {
    kind: 'tfidf-linear-svm',
    labels: clf.labels,
    c: best?.c ?? 1,
    dev: devScores,
    trainSize: train.length,
    fitMs: performance.now() - t0,
    predict: (text) => clf.predict(vec.transform(text)),
  };
}
