import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findNearDuplicates, jaccard, shingles, splitExamples, type Example } from '../../src/task/index.ts';
import { createRng } from '../../src/core/index.ts';

const rng = createRng(5);
const WORDS =
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(
    ' ',
  );
const sentence = (n: number) => Array.from({ length: n }, () => rng.pick(WORDS)).join(' ');

test('shingled Jaccard similarity', () => {
  assert.deepEqual([...shingles('a b c d', 3)], ['a b c', 'b c d']);
  assert.equal(jaccard(shingles('a b c d', 3), shingles('a b c d', 3)), 1);
  assert.equal(jaccard(shingles('a b c d e', 3), shingles('a b c d x', 3)), 2 / 4);
});

test('a near-duplicate planted across the split is found; reported by default, removed with action: remove', () => {
  const base = sentence(40);
  const words = base.split(' ');
  words[20] = 'CHANGED';
  const planted: Example = { id: 'train-copy', input: { text: words.join(' ') + '!' }, expected: 'x' };
  const original: Example = { id: 'test-original', input: { text: base }, expected: 'x' };
  const others: Example[] = Array.from({ length: 30 }, (_, i) => ({ id: `o${i}`, input: { text: sentence(40) }, expected: 'x' }));
  const m = findNearDuplicates([original], { train: [...others, planted], dev: [] });
  assert.equal(m.length, 1);
  assert.equal(m[0].id, 'train-copy');
  assert.equal(m[0].testId, 'test-original');
  assert.ok(m[0].similarity > 0.8 && m[0].similarity < 1, `one word changed in 40: similarity ${m[0].similarity}`);
  assert.deepEqual(findNearDuplicates([original], { train: others, dev: [] }), [], 'unrelated texts are not near-duplicates');

  // through the split: 30 planted pairs, some straddle test and train/dev
  const data: Example[] = [];
  for (let i = 0; i < 30; i++) {
    const t = sentence(30);
    const w = t.split(' ');
    w[10] = 'EDITED';
    data.push(
      { id: `a${i}`, input: { text: t }, expected: i % 2 ? 'p' : 'q' },
      { id: `b${i}`, input: { text: w.join(' ') }, expected: i % 2 ? 'p' : 'q' },
    );
  }
  const cfg = { train: 0.6, dev: 0.2, test: 0.2, seed: 1 };
  const rep = splitExamples(data, cfg);
  const testIds = new Set(rep.split.test.map((e) => e.id));
  const straddling = [...Array(30).keys()].filter((i) => testIds.has(`a${i}`) !== testIds.has(`b${i}`));
  assert.ok(straddling.length > 0);
  assert.equal(rep.report.nearDuplicates?.length, straddling.length);
  assert.ok(rep.report.warnings.some((w) => /have a near-duplicate among/.test(w)));
  assert.equal(rep.split.train.length + rep.split.dev.length + rep.split.test.length, 60, 'report only: nothing removed');
  const rm = splitExamples(data, { ...cfg, nearDuplicates: { action: 'remove' } });
  assert.equal(rm.split.train.length + rm.split.dev.length, 60 - rm.split.test.length - straddling.length);
  assert.ok(rm.report.warnings.some((w) => /^removed \d+ train\/dev example\(s\) that near-duplicate/.test(w)));
  const off = splitExamples(data, { ...cfg, nearDuplicates: false });
  assert.equal(off.report.nearDuplicates, undefined);
});
