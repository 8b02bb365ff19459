import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLogReg } from '../../bench/learn/logreg.ts';

const topics: Record<string, string[]> = {
  plant: ['tree', 'shrub', 'leaves', 'flowers', 'genus', 'herb'],
  animal: ['bird', 'fish', 'mammal', 'wings', 'tail', 'fur'],
  food: ['dish', 'sauce', 'baked', 'sweet', 'eaten', 'cooked'],
};
function data(n: number, seed: number) {
  const out: { text: string; label: string }[] = [];
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) % 1000) / 1000;
  const labels = Object.keys(topics);
  for (let i = 0; i < n; i++) {
    const label = labels[i % 3];
    const w = topics[label];
    const other = topics[labels[(i + 1) % 3]];
    out.push({ label, text: `a ${w[Math.floor(r() * 6)]} with ${w[Math.floor(r() * 6)]} and some ${other[Math.floor(r() * 6)]}` });
  }
  return out;
}

test('bench/learn TF-IDF + logistic regression: learns a separable topic set, C chosen on dev, deterministic', () => {
  const train = data(90, 1),
    dev = data(30, 2),
    test = data(60, 3);
  const m = fitLogReg(train, dev);
  assert.equal(m.kind, 'tfidf-logreg');
  assert.deepEqual(m.labels, ['animal', 'food', 'plant']);
  assert.equal(m.dev.length, 5);
  assert.equal(m.c, m.dev.reduce((b, x) => (x.score > b.score ? x : b)).c);
  const acc = test.filter((e) => m.predict(e.text) === e.label).length / test.length;
  assert.ok(acc >= 0.9, `accuracy ${acc}`);
  const again = fitLogReg(train, dev);
  assert.deepEqual(
    test.map((e) => again.predict(e.text)),
    test.map((e) => m.predict(e.text)),
  );
});
