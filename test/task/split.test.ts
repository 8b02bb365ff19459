import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitExamples, allocate, InputError, type Example } from '../../src/task/index.ts';

function ex(id: string, text: string, expected: string, extra: Record<string, unknown> = {}): Example {
  return { id, input: { text, ...extra }, expected, source: { file: 'data.jsonl', line: Number(id.replace(/\D/g, '')) || 1 } };
}
function dataset(counts: Record<string, number>): Example[] {
  const out: Example[] = [];
  let i = 0;
  for (const [label, n] of Object.entries(counts))
    for (let k = 0; k < n; k++, i++) out.push(ex(`e${i}`, `example number ${i} about ${label}`, label, { group: i % 2 ? 'odd' : 'even' }));
  return out;
}
const ids = (xs: Example[]) => xs.map((e) => e.id);
const count = (xs: Example[], label: string) => xs.filter((e) => e.expected === label).length;

function throwsInput(fn: () => unknown, where: string | RegExp, msg: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    if (typeof where === 'string') assert.equal(e.where, where);
    else assert.match(e.where, where);
    assert.match(e.message, msg);
    return true;
  });
}

test('same seed gives the same split; a different seed a different one', () => {
  const data = dataset({ a: 60, b: 40 });
  const s1 = splitExamples(data, { seed: 7 }).split;
  const s2 = splitExamples([...data], { seed: 7 }).split;
  const s3 = splitExamples(data, { seed: 8 }).split;
  assert.deepEqual(ids(s1.test), ids(s2.test));
  assert.deepEqual(ids(s1.train), ids(s2.train));
  assert.deepEqual(ids(s1.dev), ids(s2.dev));
  assert.notDeepEqual(ids(s1.test).sort(), ids(s3.test).sort());
});

test('splits are disjoint and cover the data; default 60/20/20', () => {
  const data = dataset({ a: 60, b: 40 });
  const { split, report } = splitExamples(data);
  assert.deepEqual(report.sizes, { train: 60, dev: 20, test: 20, unused: 0 });
  const all = [...ids(split.train), ...ids(split.dev), ...ids(split.test)];
  assert.equal(new Set(all).size, 100);
  assert.deepEqual(all.sort(), ids(data).sort());
});

test('stratification keeps class proportions in every split', () => {
  const data = dataset({ a: 150, b: 100, c: 50 });
  const { split, report } = splitExamples(data, { train: 0.6, dev: 0.2, test: 0.2, seed: 3 });
  assert.equal(report.stratifiedBy, 'expected');
  assert.deepEqual([count(split.test, 'a'), count(split.test, 'b'), count(split.test, 'c')], [30, 20, 10]);
  assert.deepEqual([count(split.dev, 'a'), count(split.dev, 'b'), count(split.dev, 'c')], [30, 20, 10]);
  assert.deepEqual([count(split.train, 'a'), count(split.train, 'b'), count(split.train, 'c')], [90, 60, 30]);
  assert.deepEqual(report.classCounts!.c, { train: 30, dev: 10, test: 10 });
  // unstratified split of the same data is (almost surely) not exactly proportional
  const flat = splitExamples(data, { stratify: false, seed: 3 });
  assert.equal(flat.report.stratifiedBy, null);
  assert.equal(flat.split.test.length, 60);
});

test('small classes get one example in each split; totals stay exact', () => {
  const data = dataset({ big: 95, tiny: 3, small: 7 });
  const { split } = splitExamples(data, { seed: 1 });
  for (const part of [split.train, split.dev, split.test]) assert.ok(count(part, 'tiny') >= 1 && count(part, 'small') >= 1);
  assert.equal(split.test.length, 21);
  assert.equal(split.dev.length, 21);
  assert.equal(split.train.length, 63);
});

test('counts instead of fractions; a remainder stays unused', () => {
  const data = dataset({ a: 60, b: 40 });
  const r = splitExamples(data, { train: 50, dev: 10, test: 20 });
  assert.deepEqual(r.report.sizes, { train: 50, dev: 10, test: 20, unused: 20 });
  assert.equal(count(r.split.test, 'a'), 12);
  const f = splitExamples(data, { train: 0.5, dev: 0, test: 0.25 });
  assert.deepEqual(f.report.sizes, { train: 50, dev: 0, test: 25, unused: 25 });
  throwsInput(() => splitExamples(data, { train: 80, dev: 20, test: 20 }), 'split', /120 examples asked for, but only 100/);
});

test('empty test split is an InputError', () => {
  throwsInput(() => splitExamples(dataset({ a: 2, b: 2 }), { train: 0.9, dev: 0, test: 0.1 }), 'split.test', /test split is empty/);
  throwsInput(() => splitExamples(dataset({ a: 20 }), { train: 20, dev: 0, test: 0 }), 'split.test', /test split is empty/);
});

test('a class with too few examples names the class and the counts', () => {
  const data = dataset({ a: 30, b: 30, rare: 2 });
  throwsInput(
    () => splitExamples(data),
    'data.jsonl',
    /class "rare" has 2 example\(s\), too few for a stratified test\/dev\/train split \(needs at least 3 per class\).*a 30, b 30, rare 2/,
  );
  // without dev, two are enough
  const ok = splitExamples(data, { train: 0.8, dev: 0, test: 0.2 });
  assert.equal(count(ok.split.test, 'rare'), 1);
  assert.equal(count(ok.split.train, 'rare'), 1);
  // not stratified: no error
  assert.equal(splitExamples(data, { stratify: false }).report.stratifiedBy, null);
});

test('exact duplicates (modulo whitespace) are removed before splitting, conflicts counted', () => {
  const data = [
    ...dataset({ a: 20, b: 20 }),
    ex('d1', '  example number 0   about a ', 'a', { group: 'even' }),
    ex('d2', 'example number 1 about a', 'b', { group: 'odd' }),
    ex('d3', 'example number 0 about a', 'a', { group: 'even' }),
  ];
  const r = splitExamples(data);
  assert.equal(r.report.duplicatesRemoved, 3); // d1, d3 duplicate e0; d2 duplicates e1 with another label
  assert.equal(r.report.conflictingDuplicates, 1);
  const all = [...r.split.train, ...r.split.dev, ...r.split.test];
  assert.equal(all.length, 40);
  assert.ok(!all.some((e) => e.id.startsWith('d')), 'the first copy is kept');
  assert.match(r.report.warnings.join('\n'), /removed 3 duplicate/);
  const keep = splitExamples(data, { dedupe: false, leakage: 'report' });
  assert.equal(keep.report.duplicatesRemoved, 0);
  assert.equal(keep.report.sizes.train + keep.report.sizes.dev + keep.report.sizes.test, 43);
});

test('leakage: a train/dev example equal to a test example after normalization is removed from train (or reported)', () => {
  const base = dataset({ a: 30, b: 30 });
  // variants of every example differing only in case/punctuation/spacing: each pair that straddles test and train/dev leaks
  const variants = base.map((e) =>
    ex(`v${e.id}`, `EXAMPLE, number ${String(e.input.text).split(' ')[2]}  about ${e.expected}!`, e.expected, { group: e.input.group }),
  );
  const data = [...base, ...variants];
  const r = splitExamples(data, { seed: 5 });
  assert.ok(r.report.leakage.length > 0);
  assert.equal(r.report.leakageRemoved, true);
  const testIds = new Set(ids(r.split.test));
  const norm = (e: Example) =>
    String(e.input.text)
      .toLowerCase()
      .replace(/[^a-z0-9 ]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  const testKeys = new Set(r.split.test.map(norm));
  for (const e of [...r.split.train, ...r.split.dev]) assert.ok(!testKeys.has(norm(e)), `leak kept: ${e.id}`);
  assert.equal(r.split.test.length, 24, 'the test split is never changed');
  for (const id of r.report.leakage) assert.ok(!testIds.has(id));
  assert.equal(r.report.sizes.train + r.report.sizes.dev, 96 - r.report.leakage.length);
  const rep = splitExamples(data, { seed: 5, leakage: 'report' });
  assert.deepEqual(rep.report.leakage, r.report.leakage);
  assert.equal(rep.report.sizes.train + rep.report.sizes.dev, 96);
});

test('auto stratification skips non-categorical outputs with a warning; stratify on an input field', () => {
  const data = Array.from({ length: 40 }, (_, i) => ex(`e${i}`, `question ${i}`, `answer ${i}`, { group: i < 30 ? 'x' : 'y' }));
  const r = splitExamples(data);
  assert.equal(r.report.stratifiedBy, null);
  assert.match(r.report.warnings.join(' '), /not stratified/);
  const g = splitExamples(data, { stratify: 'group', test: 0.5, dev: 0, train: 0.5 });
  assert.equal(g.report.stratifiedBy, 'group');
  assert.equal(g.split.test.filter((e) => e.input.group === 'y').length, 5);
  throwsInput(() => splitExamples(data, { stratify: 'nope' }), /data.jsonl:\d+/, /field "nope" is missing/);
  // the expected field's own name means the expected output
  assert.equal(splitExamples(dataset({ a: 20, b: 20 }), { stratify: 'label' }, { expectedField: 'label' }).report.stratifiedBy, 'expected');
});

test('bad split config is an InputError naming the key', () => {
  throwsInput(() => splitExamples(dataset({ a: 10, b: 10 }), { train: 0.9, dev: 0.2, test: 0.2 }), 'split.test', /sum to/);
  throwsInput(() => splitExamples(dataset({ a: 10, b: 10 }), { seed: 1.5 } as never), 'split.seed', /int/i);
});

test('allocate: exact column totals and per-class minimums', () => {
  const a = allocate([95, 3, 7], [21, 21, 63, 0], [1, 1, 1, 0]);
  assert.deepEqual(
    a.map((r) => r.reduce((x, y) => x + y, 0)),
    [95, 3, 7],
  );
  for (let s = 0; s < 4; s++)
    assert.equal(
      a.reduce((x, r) => x + r[s], 0),
      [21, 21, 63, 0][s],
    );
  for (const r of a) assert.ok(r[0] >= 1 && r[1] >= 1 && r[2] >= 1);
});

test('normalizeForLeakage: lowercase, punctuation/symbols/whitespace to one space, Unicode-aware', async () => {
  const { normalizeForLeakage } = await import('../../src/task/index.ts');
  assert.equal(normalizeForLeakage('  Hello,   World!! '), 'hello world');
  assert.equal(normalizeForLeakage('Ça va? Très bien…'), 'ça va très bien');
  assert.equal(normalizeForLeakage('x😀y 中文，标点。'), 'x y 中文 标点');
  assert.equal(normalizeForLeakage("don't\tstop\nme"), 'don t stop me');
  assert.equal(normalizeForLeakage('---'), '');
});
