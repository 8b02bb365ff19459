// TF-IDF + multinomial logistic regression (L2), the classical reference of bench/learn (issue 12).
// Features: decide's TfidfVectorizer (word 1–2-grams and char 3–5-grams, hashed, sublinear tf, L2 rows).
// Solver: seeded SGD on the softmax loss with L2 weight lambda = 1 / (C · n), 40 epochs, step
// 1 / (lambda · (t + t0)) (Bottou's schedule); C chosen on dev from {0.1, 1, 10, 100, 1000}.
import { Rng } from '../../src/core/index.ts';
import { TfidfVectorizer, accuracyOf, type LabeledText, type Sparse } from '../../src/decide/index.ts';

export interface LogRegModel {
  kind: 'tfidf-logreg';
  labels: string[];
  c: number;
  dev: { c: number; score: number }[];
  fitMs: number;
  predict(text: string): string;
}

function trainSoftmax(xs: readonly Sparse[], ys: readonly number[], K: number, C: number, seed: number, epochs = 40) {
  const cols = new Map<number, number>();
  for (const x of xs) for (const k of x.idx) if (!cols.has(k)) cols.set(k, cols.size);
  const D = cols.size;
  const W = new Float64Array(K * D);
  const b = new Float64Array(K);
  let scale = 1; // W is stored as scale * W (lazy L2 shrinkage)
  const n = xs.length;
  const lambda = 1 / (C * n);
  const t0 = 1 / lambda; // step 1 / (lambda (t + t0)) starts at 1
  const rng = new Rng(seed >>> 0 || 1);
  const order = [...Array(n).keys()];
  const colsOf = xs.map((x) => Int32Array.from(x.idx, (k) => cols.get(k)!));
  const z = new Float64Array(K);
  let t = 0;
  for (let ep = 0; ep < epochs; ep++) {
    rng.shuffleInPlace(order);
    for (const i of order) {
      const eta = 1 / (lambda * (t + t0));
      t++;
      const c = colsOf[i],
        v = xs[i].val;
      let mx = -Infinity;
      for (let k = 0; k < K; k++) {
        let dot = 0;
        const off = k * D;
        for (let j = 0; j < c.length; j++) dot += W[off + c[j]] * v[j];
        z[k] = b[k] + scale * dot;
        if (z[k] > mx) mx = z[k];
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += z[k] = Math.exp(z[k] - mx);
      scale *= 1 - eta * lambda;
      if (scale < 1e-9) {
        for (let q = 0; q < W.length; q++) W[q] *= scale;
        scale = 1;
      }
      for (let k = 0; k < K; k++) {
        const g = z[k] / sum - (ys[i] === k ? 1 : 0);
        b[k] -= eta * g * 0.1;
        const off = k * D,
          step = (eta * g) / scale;
        for (let j = 0; j < c.length; j++) W[off + c[j]] -= step * v[j];
      }
    }
  }
  for (let q = 0; q < W.length; q++) W[q] *= scale;
  return (x: Sparse): number => {
    let best = 0,
      bestS = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = b[k];
      for (let j = 0; j < x.idx.length; j++) {
        const col = cols.get(x.idx[j]);
        if (col !== undefined) s += W[k * D + col] * x.val[j];
      }
      if (s > bestS) {
        bestS = s;
        best = k;
      }
    }
    return best;
  };
}

/** Fit TF-IDF + logistic regression on train, choosing C on dev (ties: the smaller C). */
export function fitLogReg(train: readonly LabeledText[], dev: readonly LabeledText[], seed = 0): LogRegModel {
  const t0 = performance.now();
  const vec = new TfidfVectorizer();
  const xs = vec.fit(train.map((t) => t.text));
  const labels = [...new Set(train.map((t) => t.label))].sort();
  const ys = train.map((t) => labels.indexOf(t.label));
  const dx = dev.map((d) => vec.transform(d.text));
  const scores: { c: number; score: number }[] = [];
  let best: { c: number; score: number; f: (x: Sparse) => number } | undefined;
  for (const c of dev.length ? [0.1, 1, 10, 100, 1000] : [10]) {
    const f = trainSoftmax(xs, ys, labels.length, c, seed);
    const s = dev.length
      ? accuracyOf(
          dev.map((d) => d.label),
          dx.map((x) => labels[f(x)]),
        )
      : NaN;
    scores.push({ c, score: s });
    if (!best || s > best.score) best = { c, score: s, f };
  }
  const f = best!.f;
  return {
    kind: 'tfidf-logreg',
    labels,
    c: best!.c,
    dev: scores,
    fitMs: performance.now() - t0,
    predict: (text) => labels[f(vec.transform(text))],
  };
}
