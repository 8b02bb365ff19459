import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDecision, type DecisionRow, type DecisionArmInput } from '../../src/decide/index.ts';
import { summarize } from '../../src/metrics/index.ts';
import { decisionTable, decisionMarkdown } from '../../src/report/decision.ts';
import { decisionHtml } from '../../src/report/decision-html.ts';

const N = 200;
const expected = Array.from({ length: N }, (_, i) => (i % 10 < 7 ? 'ham' : 'spam'));
const ids = expected.map((_, i) => `e${i}`);
function rows(answer: (i: number) => string, cpuMs?: number): DecisionRow[] {
  return expected.map((e, i) => {
    const a = answer(i);
    return {
      exampleId: ids[i],
      expected: e,
      output: a,
      extracted: a,
      score: a === e ? 1 : 0,
      pass: a === e,
      tokensIn: 100,
      tokensOut: 1,
      latencyMs: 50 + (i % 7),
      costUsd: 0,
      ...(cpuMs !== undefined ? { cpuMs } : {}),
    };
  });
}
const flip = (e: string) => (e === 'ham' ? 'spam' : 'ham');
const results = new Map<string, DecisionRow[]>([
  ['const', rows(() => 'ham')],
  ['good', rows((i) => (i % 10 === 9 ? flip(expected[i]) : expected[i]))], // 90% right
  ['majority', rows(() => 'ham', 0.01)],
  ['classical', rows((i) => (i % 10 < 2 ? flip(expected[i]) : expected[i]), 0.2)], // 80% right
]);
const kinds: Record<string, string> = { const: 'prompt', good: 'prompt', majority: 'majority', classical: 'classical' };
const arms: DecisionArmInput[] = [...results].map(([name, r]) => ({
  name,
  kind: kinds[name],
  status: 'done',
  notes: name === 'majority' ? { label: 'ham' } : undefined,
  metric: summarize({ name: 'accuracy', labels: ['ham', 'spam'] }, r),
  latencyP95: 56,
}));
const config = {
  models: [{ id: 'gpt', provider: 'openai', price: { input: 0.15, output: 0.6 } }],
  arms: [
    { name: 'const', kind: 'prompt', model: 'gpt' },
    { name: 'good', kind: 'prompt', model: 'gpt' },
    { name: 'majority', kind: 'majority' },
    { name: 'classical', kind: 'classical' },
  ],
  baseline: 'const',
};
for (const r of results.get('const')!.concat(results.get('good')!)) r.costUsd = (100 * 0.15 + 0.6) / 1e6;

test('flags on a constant predictor: one label for ≥ 90% and no better than the majority answer', () => {
  const d = buildDecision({ metric: { name: 'accuracy', labels: ['ham', 'spam'] }, config, arms, results, testIds: ids, seed: 1 });
  const c = d.diagnostics.find((x) => x.arm === 'const')!;
  assert.deepEqual(c.distribution, { ham: 200 });
  assert.ok(
    c.flags.some((f) => f.startsWith("answers 'ham' for 100% of test examples (200 of 200)")),
    c.flags.join(' | '),
  );
  assert.ok(
    c.flags.some((f) => f.startsWith("no better than always answering 'ham' (accuracy 0.700 vs 0.700")),
    c.flags.join(' | '),
  );
  const g = d.diagnostics.find((x) => x.arm === 'good')!;
  assert.deepEqual(g.flags, [], 'the 90% arm is above the majority answer and not below the classical baseline');
  assert.equal(d.recommendation.arm, 'good');
  // costs: hosted tokens × price; classical CPU time × $0.05/h
  const good = d.arms.find((a) => a.name === 'good')!;
  assert.equal(good.cost.basis, 'tokens');
  assert.ok(Math.abs(good.cost.perRequestUsd - 15.6e-6) < 1e-12);
  const cl = d.arms.find((a) => a.name === 'classical')!;
  assert.equal(cl.cost.basis, 'cpu');
  assert.ok(Math.abs(cl.cost.perRequestUsd - (0.2 / 3_600_000) * 0.05) < 1e-15);
  // Holm within the majority family; raw p kept
  const fam = d.comparisons.filter((x) => x.family === 'majority');
  assert.ok(fam.length >= 3 && fam.every((x) => x.pHolm >= x.p));
});

test('the Recommendation section comes with figures in text, Markdown and HTML', () => {
  const decision = buildDecision({ metric: { name: 'accuracy', labels: ['ham', 'spam'] }, config, arms, results, testIds: ids, seed: 1 });
  const report = { decision } as Parameters<typeof decisionTable>[0];
  const t = decisionTable(report);
  assert.match(t, /^Recommendation\n\n  Recommend good: /);
  assert.match(decisionMarkdown(report), /^## Recommendation\n\n- Recommend good: .*accuracy 0\.900 \[/);
  const h = decisionHtml(report);
  assert.match(h, /<section id="recommendation"/);
  assert.match(h, /<svg [^>]*aria-label="Total cost over 12 months/);
  assert.equal(decisionTable({} as Parameters<typeof decisionTable>[0]), '');
});

test('repeats: agreement across repeats and the spread of the metric; curve points get a crossover sentence', () => {
  const r2 = rows((i) => (i % 10 === 8 ? flip(expected[i]) : expected[i])); // 90%, differs from `good` on 20% of examples
  const res = new Map(results);
  res.set('good#2', r2);
  const arms2 = [
    ...arms,
    {
      name: 'good#2',
      kind: 'prompt',
      status: 'done',
      metric: summarize({ name: 'accuracy', labels: ['ham', 'spam'] }, r2),
      latencyP95: 56,
    },
  ];
  const cfg2 = { ...config, expansion: { curves: [], repeats: [{ arm: 'good', members: ['good', 'good#2'] }], baselines: [] } };
  const d = buildDecision({
    metric: { name: 'accuracy', labels: ['ham', 'spam'] },
    config: cfg2,
    arms: arms2,
    results: res,
    testIds: ids,
    seed: 1,
  });
  assert.equal(d.consistency.length, 1);
  assert.ok(Math.abs(d.consistency[0].agreement - 0.8) < 1e-12, 'the same answer on 160 of 200 examples');
  assert.equal(d.consistency[0].metric.min, 0.9);
  assert.match(
    d.consistency[0].sentence,
    /^good over 2 repeats: the same answer on 80\.0% of 200 test examples; accuracy ranges 0\.900–0\.900/,
  );
  assert.ok(!d.arms.find((a) => a.name === 'good#2')!.candidate, 'a repeat is shown, not recommended');
});

test('learning curve: where the fine-tune curve overtakes the best prompt arm, with its interval', () => {
  const mkArm = (name: string, kind: string, r: DecisionRow[], trainExamples?: number): DecisionArmInput => ({
    name,
    kind,
    status: 'done',
    metric: summarize({ name: 'accuracy', labels: ['ham', 'spam'] }, r),
    latencyP95: 50,
    ...(trainExamples ? { training: { seconds: 1, costUsd: 0, modelId: 'x', details: { trainExamples } } } : {}),
  });
  const small = rows(() => 'ham'); // 70%
  const mid = rows((i) => (i % 10 === 9 ? flip(expected[i]) : expected[i])); // 90%
  const all = rows((i) => (i % 20 === 19 ? flip(expected[i]) : expected[i])); // 95%
  const prompt = rows((i) => (i % 10 >= 8 ? flip(expected[i]) : expected[i])); // 80%
  const res = new Map([
    ['few', prompt],
    ['ft@25', small],
    ['ft@100', mid],
    ['ft', all],
  ]);
  const armsC = [
    mkArm('few', 'prompt', prompt),
    mkArm('ft@25', 'finetune', small, 25),
    mkArm('ft@100', 'finetune', mid, 100),
    mkArm('ft', 'finetune', all, 598),
  ];
  const cfg = {
    arms: [
      { name: 'few', kind: 'prompt' },
      { name: 'ft@25', kind: 'finetune' },
      { name: 'ft@100', kind: 'finetune' },
      { name: 'ft', kind: 'finetune' },
    ],
    expansion: {
      curves: [
        {
          arm: 'ft',
          axis: 'train' as const,
          points: [
            { arm: 'ft@25', x: 25 },
            { arm: 'ft@100', x: 100 },
            { arm: 'ft', x: null },
          ],
        },
      ],
      repeats: [],
      baselines: [],
    },
  };
  const d = buildDecision({
    metric: { name: 'accuracy', labels: ['ham', 'spam'] },
    config: cfg,
    arms: armsC,
    results: res,
    testIds: ids,
    seed: 1,
  });
  const c = d.curves[0];
  assert.deepEqual(
    c.points.map((p) => p.x),
    [25, 100, 598],
    '`all` resolves to the examples trained on',
  );
  assert.equal(c.crossover?.against, 'few');
  assert.equal(c.crossover?.at, 100);
  assert.match(
    c.crossover!.sentence,
    /^ft overtakes the best prompt arm few \(accuracy 0\.800\) at 100 training examples \(0\.900, difference \+0\.100 \[/,
  );
  assert.ok(c.crossover!.significantAt === 100 || c.crossover!.significantAt === 598);
  assert.match(
    c.crossover!.sentence,
    /and not at 25 \(0\.700, difference -0\.100 \[[^\]]+\]\): the crossover lies between 25 and 100 examples/,
  );

  // a point above the prompt followed by one below is no crossover: the curve must stay above from there on
  const dip = new Map(res);
  dip.set('ft', small);
  const d2 = buildDecision({
    metric: { name: 'accuracy', labels: ['ham', 'spam'] },
    config: cfg,
    arms: [armsC[0], armsC[1], armsC[2], mkArm('ft', 'finetune', small, 598)],
    results: dip,
    testIds: ids,
    seed: 1,
  });
  assert.equal(d2.curves[0].crossover?.at, undefined);
  assert.match(
    d2.curves[0].crossover!.sentence,
    /^ft does not overtake the best prompt arm few \(accuracy 0\.800\) within the data: at 598 /,
  );
});
