import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  createScorer,
  extractLabel,
  summarize,
  classificationReport,
  metricSchema,
  taskConfigSchema,
  extractJson,
  extractNumber,
  normalizeText,
  type Scorer,
  type ScoreResult,
} from '../../src/metrics/index.ts';
import { InputError, type Example } from '../../src/task/index.ts';
import { wilsonInterval } from '../../src/stats/index.ts';

const baseDir = join(import.meta.dirname, '../fixtures/data');
const ex = (expected: string, id = 'x1'): Example => ({ id, input: { text: 'q' }, expected, source: { file: 'd.jsonl', line: 7 } });
const sc = async (s: Scorer, out: string, expected: string): Promise<ScoreResult> => s.score(out, ex(expected));

async function rejectsInput(p: Promise<unknown> | (() => unknown), where: string, msg: RegExp) {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    assert.equal(e.where, where);
    assert.match(e.message, msg);
    return true;
  });
}

test('extractLabel: last unnegated mention, whole words, case-insensitive', () => {
  const labels = ['spam', 'ham'];
  assert.equal(extractLabel('This is SPAM.', labels), 'spam');
  assert.equal(extractLabel('Label: Ham', labels), 'ham');
  assert.equal(extractLabel('spam or ham? ham', labels), 'ham', 'the last mention wins');
  assert.equal(extractLabel('not ham, it is spam', labels), 'spam', 'a negated mention is skipped');
  assert.equal(extractLabel('ham, not spam', labels), 'ham');
  assert.equal(extractLabel("It isn't spam. Label: ham", labels), 'ham');
  assert.equal(extractLabel('This is a non-spam message', labels), undefined, 'every mention negated: no label');
  assert.equal(extractLabel('it is not a spam email', labels), undefined, 'negation reaches up to three words');
  assert.equal(extractLabel('spam but not ham', labels), 'spam');
  assert.equal(extractLabel('hamburger spammer', labels), undefined, 'whole words only');
  assert.equal(extractLabel('nothing here', labels), undefined);
  assert.equal(extractLabel('Genre: science fiction', ['news', 'science_fiction']), 'science_fiction');
  // a label inside a longer label's occurrence does not count
  const parties = ['Democratic', 'Democratic-Republican', 'Republican'];
  assert.equal(extractLabel('Democratic-Republican', parties), 'Democratic-Republican');
  assert.equal(extractLabel('Democratic, not Democratic-Republican', parties), 'Democratic');
  assert.equal(extractLabel('Élan vital', ['élan', 'x']), 'élan');
});

test('extractLabel strict: the whole normalized output must be a label', () => {
  const labels = ['spam', 'ham'];
  assert.equal(extractLabel('  Spam. ', labels, true), 'spam');
  assert.equal(extractLabel('"ham"', labels, true), 'ham');
  assert.equal(extractLabel('**spam**', labels, true), 'spam');
  assert.equal(extractLabel('it is spam', labels, true), undefined);
});

test('exact with normalization options', async () => {
  const plain = await createScorer({ type: 'exact' }, { baseDir });
  assert.equal((await sc(plain, '  Paris  ', 'Paris')).pass, true);
  assert.equal((await sc(plain, 'paris', 'Paris')).pass, false);
  assert.equal((await sc(plain, 'New   York', 'New York')).pass, true);
  const loose = await createScorer({ type: 'exact', normalize: { case: true, punctuation: true } }, { baseDir });
  assert.equal((await sc(loose, 'paris!', 'Paris')).pass, true);
  assert.equal((await sc(loose, 'Paris, France', 'paris france')).score, 1);
  const raw = await createScorer({ type: 'exact', normalize: { whitespace: false, trim: false } }, { baseDir });
  assert.equal((await sc(raw, 'Paris ', 'Paris')).pass, false);
  assert.equal(normalizeText(' A  b ', { whitespace: true }), 'A b');
});

test('accuracy: labels from data or config, extraction, expected not a label is an InputError', async () => {
  const s = await createScorer({ type: 'accuracy' }, { baseDir, labels: ['ham', 'spam'] });
  assert.deepEqual(s.labels, ['ham', 'spam']);
  assert.deepEqual(await sc(s, 'I think this is spam', 'spam'), { score: 1, pass: true, extracted: 'spam' });
  assert.equal((await sc(s, 'Ham', 'spam')).pass, false);
  const none = await sc(s, 'no idea', 'spam');
  assert.equal(none.extracted, undefined);
  assert.equal(none.pass, false);
  assert.equal((await sc(s, 'spam', 'SPAM')).pass, true, 'expected matched to label case-insensitively');
  await rejectsInput(async () => s.score('spam', ex('eggs')), 'd.jsonl:7', /expected "eggs" is not one of the labels \(ham, spam\)/);
  const strict = await createScorer({ type: 'accuracy', labels: ['yes', 'no'], strict: true }, { baseDir });
  assert.equal((await sc(strict, 'Yes.', 'yes')).pass, true);
  assert.equal((await sc(strict, 'yes, definitely', 'yes')).pass, false);
  await rejectsInput(createScorer({ type: 'accuracy' }, { baseDir }), 'task.metric.labels', /needs a label set/);
});

test('macro-f1 summary: per-class precision/recall/F1, confusion matrix, bootstrap CI', async () => {
  const s = await createScorer({ type: 'macro-f1', labels: ['a', 'b', 'c'] }, { baseDir });
  assert.equal(s.name, 'macro-f1');
  // expected / output pairs
  const pairs: [string, string][] = [
    ['a', 'a'],
    ['a', 'a'],
    ['a', 'b'],
    ['a', 'a'],
    ['b', 'b'],
    ['b', 'b'],
    ['b', 'c'],
    ['c', 'c'],
    ['c', 'nothing'],
  ];
  const rows = [];
  for (const [e, o] of pairs) {
    const r = await sc(s, o, e);
    rows.push({ ...r, expected: e });
  }
  const m = summarize(s, rows, { seed: 1 });
  // a: tp3 fp0 fn1 → p1 r.75 f .857142; b: tp2 fp1 fn1 → p.667 r.667 f.667; c: tp1 fp1 fn1 → p.5 r.5 f.5
  assert.equal(m.n, 9);
  assert.ok(Math.abs(m.value - (6 / 7 + 2 / 3 + 0.5) / 3) < 1e-12, `macro-F1 ${m.value}`);
  assert.ok(Math.abs(m.perClass!.a.f1 - 6 / 7) < 1e-12);
  assert.equal(m.perClass!.a.precision, 1);
  assert.equal(m.perClass!.a.recall, 0.75);
  assert.equal(m.perClass!.c.support, 2);
  assert.deepEqual(m.confusion!.labels, ['a', 'b', 'c', '(none)']);
  assert.deepEqual(m.confusion!.matrix, [
    [3, 1, 0, 0],
    [0, 2, 1, 0],
    [0, 0, 1, 1],
    [0, 0, 0, 0],
  ]);
  assert.ok(m.ci[0] <= m.value && m.value <= m.ci[1] && m.ci[0] < m.ci[1]);
  assert.deepEqual(summarize(s, rows, { seed: 1 }).ci, m.ci, 'seeded');
});

test('classificationReport matches a hand computation and sklearn conventions', () => {
  const r = classificationReport(['pos', 'neg'], ['pos', 'pos', 'neg', 'neg', 'neg'], ['pos', 'neg', 'neg', 'neg', 'pos']);
  assert.equal(r.accuracy, 0.6);
  assert.ok(Math.abs(r.perClass.pos.f1 - 0.5) < 1e-12);
  assert.ok(Math.abs(r.perClass.neg.f1 - 2 / 3) < 1e-12);
  assert.ok(Math.abs(r.macroF1 - (0.5 + 2 / 3) / 2) < 1e-12);
  assert.deepEqual(r.confusion, {
    labels: ['pos', 'neg'],
    matrix: [
      [1, 1],
      [1, 2],
    ],
  });
  // a label never expected nor predicted is left out of the macro average
  const r2 = classificationReport(['x', 'y', 'z'], ['x', 'y'], ['x', 'y']);
  assert.equal(r2.macroF1, 1);
  assert.equal(r2.perClass.z.support, 0);
});

test('accuracy summary uses a Wilson interval for the proportion', async () => {
  const s = await createScorer({ type: 'accuracy', labels: ['a', 'b'] }, { baseDir });
  const rows = Array.from({ length: 10 }, (_, i) => ({ score: i < 8 ? 1 : 0, pass: i < 8, extracted: i < 8 ? 'a' : 'b', expected: 'a' }));
  const m = summarize(s, rows);
  assert.equal(m.value, 0.8);
  assert.deepEqual(m.ci, wilsonInterval(8, 10));
  assert.equal(m.perClass!.a.recall, 0.8);
  const empty = summarize(s, []);
  assert.equal(empty.n, 0);
  assert.ok(Number.isNaN(empty.value));
});

test('non-binary scores get a bootstrap interval of the mean', () => {
  const rows = [0.2, 0.4, 0.6, 0.8, 1].map((score) => ({ score, pass: score >= 0.5, expected: 'x' }));
  const m = summarize({ name: 'custom' }, rows, { seed: 3 });
  assert.ok(Math.abs(m.value - 0.6) < 1e-12);
  assert.ok(m.ci[0] >= 0.2 && m.ci[1] <= 1 && m.ci[0] < 0.6 && m.ci[1] > 0.6);
  assert.equal(m.perClass, undefined);
});

test('contains and regex', async () => {
  const c = await createScorer({ type: 'contains' }, { baseDir });
  assert.equal((await sc(c, 'The capital is Paris.', 'Paris')).pass, true);
  assert.equal((await sc(c, 'the capital is paris', 'Paris')).pass, false);
  const ci = await createScorer({ type: 'contains', value: 'REFUND', ignoreCase: true }, { baseDir });
  assert.equal((await sc(ci, 'we will refund you', 'whatever')).pass, true);
  const r = await createScorer({ type: 'regex', pattern: '^answer:\\s*(\\d+)$', flags: 'im' }, { baseDir });
  assert.deepEqual(await sc(r, 'Work...\nANSWER: 42', 'x'), { score: 1, pass: true, extracted: '42' });
  assert.equal((await sc(r, 'answer: forty', 'x')).pass, false);
  const re = await createScorer({ type: 'regex', pattern: '^\\s*{{expected}}\\W*$' }, { baseDir });
  assert.equal((await sc(re, ' 3.5 ', '3.5')).pass, true);
  assert.equal((await sc(re, '3x5', '3.5')).pass, false, 'expected is regex-escaped');
  await rejectsInput(createScorer({ type: 'regex', pattern: '([a-z' }, { baseDir }), 'task.metric.pattern', /invalid regular expression/);
});

test('json-schema: validity against a schema file, field match, whole match, fenced output', async () => {
  const s = await createScorer({ type: 'json-schema', schema: 'person.schema.json', fields: ['name', 'age'] }, { baseDir });
  const want = JSON.stringify({ name: 'Ada', age: 36, tags: ['x'] });
  const ok = await sc(s, 'Here you go:\n```json\n{"age": 36, "name": "Ada"}\n```', want);
  assert.equal(ok.pass, true);
  assert.equal(ok.score, 1);
  const half = await sc(s, '{"name": "Ada", "age": 37}', want);
  assert.equal(half.pass, false);
  assert.equal(half.score, 0.5);
  assert.match(half.detail!, /fields differ: age/);
  const invalid = await sc(s, '{"name": "Ada", "age": -1}', want);
  assert.equal(invalid.score, 0);
  assert.match(invalid.detail!, /schema: .*minimum|>= 0/);
  assert.equal((await sc(s, 'not json at all', want)).detail, 'output is not JSON');
  const whole = await createScorer({ type: 'json-schema', fields: '*' }, { baseDir });
  assert.equal((await sc(whole, 'The answer is {"a": [1, {"b": 2}]} ok', '{"a":[1,{"b":2}]}')).pass, true);
  assert.equal((await sc(whole, '{"a": [1, {"b": 3}]}', '{"a":[1,{"b":2}]}')).pass, false);
  await rejectsInput(async () => whole.score('{"a":1}', ex('not json')), 'd.jsonl:7', /expected output is not JSON/);
  const inline = await createScorer(
    {
      type: 'json-schema',
      schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'number' }] },
    },
    { baseDir },
  );
  assert.equal((await sc(inline, '[1, 2]', '')).pass, true);
  assert.equal((await sc(inline, '["a"]', '')).pass, false);
  await rejectsInput(createScorer({ type: 'json-schema', schema: 'missing.json' }, { baseDir }), 'task.metric.schema', /not found/);
  await rejectsInput(
    createScorer({ type: 'json-schema', schema: { type: 'nonsense' } }, { baseDir }),
    'task.metric.schema',
    /invalid JSON Schema/,
  );
  assert.deepEqual(extractJson('x [1,2] y'), { ok: true, value: [1, 2] });
});

test('numeric within absolute and relative tolerance', async () => {
  const exact = await createScorer({ type: 'numeric' }, { baseDir });
  assert.deepEqual(await sc(exact, 'The total is 1,234.5 dollars', '1234.5'), { score: 1, pass: true, extracted: '1234.5' });
  assert.equal((await sc(exact, '1234.6', '1234.5')).pass, false);
  const abs = await createScorer({ type: 'numeric', abs: 0.15 }, { baseDir });
  assert.equal((await sc(abs, '= 3.0', '3.14')).pass, true);
  assert.equal((await sc(abs, '2.9', '3.14')).pass, false);
  const rel = await createScorer({ type: 'numeric', rel: 0.01 }, { baseDir });
  assert.equal((await sc(rel, '-1.005e3', '-1000')).pass, true);
  assert.equal((await sc(rel, '-1020', '-1000')).pass, false);
  assert.equal((await sc(rel, 'none', '5')).detail, 'no number in the output');
  await rejectsInput(async () => exact.score('5', ex('five')), 'd.jsonl:7', /not a number/);
  assert.equal(extractNumber('x .5 y'), 0.5);
  assert.equal(extractNumber('-7'), -7);
});

test('custom scorer from .mjs (number) and .ts (object) files', async () => {
  const len = await createScorer({ type: 'custom', path: 'scorer-len.mjs', name: 'brevity' }, { baseDir });
  assert.equal(len.name, 'brevity');
  assert.deepEqual(await sc(len, 'abc', 'abcdef'), { score: 1, pass: true });
  assert.deepEqual(await sc(len, 'abcdefgh', 'ab'), { score: 0.25, pass: false });
  const obj = await createScorer({ type: 'custom', path: 'scorer-obj.ts' }, { baseDir });
  assert.deepEqual(await sc(obj, 'The quick brown fox', 'quick fox'), { score: 1, pass: true, detail: '2/2 words' });
  assert.equal((await sc(obj, 'quick', 'quick fox')).score, 0.5);
  await rejectsInput(
    createScorer({ type: 'custom', path: 'scorer-bad.mjs' }, { baseDir }),
    'scorer-bad.mjs',
    /must export a default function/,
  );
  await rejectsInput(createScorer({ type: 'custom', path: 'nope.mjs' }, { baseDir }), 'task.metric.path', /not found/);
});

test('metric schema: discriminated on type, strict keys, defaults; task config composes it', async () => {
  assert.deepEqual(metricSchema.parse({ type: 'exact' }), {
    type: 'exact',
    normalize: { case: false, whitespace: true, punctuation: false, trim: true },
  });
  assert.equal(metricSchema.safeParse({ type: 'bleu' }).success, false);
  assert.equal(metricSchema.safeParse({ type: 'accuracy', lables: ['a', 'b'] }).success, false);
  const bad = metricSchema.safeParse({ type: 'numeric', abs: -1 });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error!.issues[0].path, ['abs']);
  const t = taskConfigSchema.parse({ data: { builtin: 'spamassassin' }, metric: { type: 'accuracy' } });
  assert.deepEqual(t.metric, { type: 'accuracy', strict: false });
  assert.equal(taskConfigSchema.safeParse({ data: 'x.jsonl', metric: { type: 'accuracy' }, extra: 1 }).success, false);
  await rejectsInput(createScorer({ type: 'numeric', abs: 'x' } as never, { baseDir }), 'task.metric.abs', /number/);
});

test('validateExpected checks every expected output before any scoring', async () => {
  const { validateExpected } = await import('../../src/metrics/index.ts');
  const acc = await createScorer({ type: 'accuracy', labels: ['ham', 'spam'] }, { baseDir });
  const good = [ex('ham', 'a'), ex('Spam', 'b')];
  validateExpected(acc, good);
  const bad: Example[] = [...good, { id: 'c', input: {}, expected: 'eggs', source: { file: 'd.jsonl', line: 9 } }];
  await rejectsInput(async () => validateExpected(acc, bad), 'd.jsonl:9', /expected "eggs" is not one of the labels/);
  const num = await createScorer({ type: 'numeric' }, { baseDir });
  validateExpected(num, [ex('3.5'), ex('1,000')]);
  await rejectsInput(async () => validateExpected(num, [ex('three')]), 'd.jsonl:7', /not a number/);
  const js = await createScorer({ type: 'json-schema', fields: ['a'] }, { baseDir });
  await rejectsInput(async () => validateExpected(js, [ex('{"a":1}'), ex('{bad')]), 'd.jsonl:7', /not JSON/);
  validateExpected(await createScorer({ type: 'exact' }, { baseDir }), [ex('anything')]);
});
