import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAssertions, reportFrom, type ArmRecord, type ResultRecord, type RunRecord } from '../../src/experiment/index.ts';

const run: RunRecord = {
  id: 'r1',
  experiment: 'e',
  runKey: 'k',
  status: 'done',
  createdAt: 0,
  finishedAt: 1000,
  meta: {
    seed: 1,
    sizes: { train: 1, dev: 1, test: 4 },
    metric: { name: 'accuracy', labels: ['a', 'b'], type: 'accuracy' },
    data: 'd.jsonl',
    baseline: 'base',
    arms: ['base', 'better'],
    warnings: [],
    config: {},
  },
};
const row = (id: string, pass: boolean, extra: Partial<ResultRecord> = {}): ResultRecord => ({
  exampleId: id,
  idx: 0,
  expected: 'a',
  output: pass ? 'a' : 'b',
  extracted: pass ? 'a' : 'b',
  score: pass ? 1 : 0,
  pass,
  tokensIn: 10,
  tokensOut: 1,
  latencyMs: 5,
  costUsd: 0.001,
  cached: false,
  ...extra,
});
const arms: ArmRecord[] = [
  { run: 'r1', name: 'better', kind: 'prompt', status: 'done', modelId: 'm', promptHash: 'h2' },
  {
    run: 'r1',
    name: 'base',
    kind: 'prompt',
    status: 'done',
    modelId: 'm',
    promptHash: 'h1',
    spent: { calls: 2, tokensIn: 1, tokensOut: 1, costUsd: 0.5, ms: 10 },
  },
];
const results = new Map([
  [
    'base',
    [
      row('1', true),
      row('2', false),
      row('3', false),
      row('4', false, { error: 'boom', output: '', tokensIn: 0, tokensOut: 0, costUsd: 0 }),
    ],
  ],
  ['better', [row('1', true), row('2', true), row('3', true), row('4', false)]],
]);

test('reportFrom: config order, metric, errors, cost, paired comparison vs baseline', () => {
  const r = reportFrom(run, arms, results);
  assert.deepEqual(
    r.arms.map((a) => a.name),
    ['base', 'better'],
  );
  const [base, better] = r.arms;
  assert.equal(base.metric.value, 0.25);
  assert.equal(better.metric.value, 0.75);
  assert.equal(base.errors, 1);
  assert.equal(base.n, 4);
  assert.equal(base.costPer1k, (0.003 / 4) * 1000);
  assert.equal(base.tokens.meanInput, 10);
  assert.deepEqual(base.spent, { calls: 2, tokensIn: 1, tokensOut: 1, costUsd: 0.5, ms: 10 });
  assert.equal(r.baseline, 'base');
  assert.equal(r.comparisons.length, 1);
  const c = r.comparisons[0];
  assert.equal(c.arm, 'better');
  assert.equal(c.diff, 0.5);
  assert.deepEqual(c.discordant, { armOnly: 2, baselineOnly: 0 });
  assert.equal(c.pValue, 0.5);
  assert.ok(r.warnings.some((w) => /base: 1 of 4 calls failed/.test(w)));
  assert.equal(r.finishedAt, new Date(1000).toISOString());
});

test('checkAssertions: error rate, minMetric (all arms / one arm / list), minDiff, failed arm', () => {
  const r = reportFrom(run, arms, results);
  const fails = (cfg: any) =>
    checkAssertions(r, cfg)
      .filter((a) => !a.ok)
      .map((a) => a.name);
  assert.deepEqual(fails(undefined), ['maxErrorRate base'], 'default threshold 10%: 1 of 4 failed');
  assert.deepEqual(fails({ maxErrorRate: 0.25 }), []);
  assert.deepEqual(fails({ maxErrorRate: 0.5, minMetric: 0.5 }), ['minMetric base']);
  assert.deepEqual(fails({ maxErrorRate: 0.5, minMetric: { arm: 'better', value: 0.8 } }), ['minMetric better']);
  assert.deepEqual(fails({ maxErrorRate: 0.5, minMetric: [{ arm: 'better', value: 0.7 }, { value: 0.2 }] }), []);
  assert.deepEqual(fails({ maxErrorRate: 0.5, minDiff: { arm: 'better', value: 0.6 } }), ['minDiff better']);
  const failed = reportFrom(run, [{ ...arms[0], status: 'failed', error: 'prepare blew up' }, arms[1]], results);
  const f = checkAssertions(failed, { maxErrorRate: 1 }).filter((a) => !a.ok);
  assert.equal(f.length, 1);
  assert.match(f[0].message, /arm better failed: prepare blew up/);
});
