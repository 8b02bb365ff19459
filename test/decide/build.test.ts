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
    return { exampleId: ids[i], expected: e, output: a, extracted: a, score: a === e ? 1 : 0, pass: a === e, tokensIn: 100, tokensOut: 1, latencyMs: 50 + (i % 7), costUsd: 0, ...(cpuMs !== undefined ? { cpuMs } : {}) };
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
  name, kind: kinds[name], status: 'done', notes: name === 'majority' ? { label: 'ham' } : undefined,
  metric: summarize({ name: 'accuracy', labels: ['ham', 'spam'] }, r), latencyP95: 56,
}));
const config = {
  models: [{ id: 'gpt', provider: 'openai', price: { input: 0.15, output: 0.6 } }],
  arms: [{ name: 'const', kind: 'prompt', model: 'gpt' }, { name: 'good', kind: 'prompt', model: 'gpt' }, { name: 'majority', kind: 'majority' }, { name: 'classical', kind: 'classical' }],
  baseline: 'const',
};
for (const r of results.get('const')!.concat(results.get('good')!)) r.costUsd = (100 * 0.15 + 0.6) / 1e6;

test('flags on a constant predictor: one label for ≥ 90% and no better than the majority answer', () => {
  const d = buildDecision({ metric: { name: 'accuracy', labels: ['ham', 'spam'] }, config, arms, results, testIds: ids, seed: 1 });
  const c = d.diagnostics.find((x) => x.arm === 'const')!;
  assert.deepEqual(c.distribution, { ham: 200 });
  assert.ok(c.flags.some((f) => f.startsWith("answers 'ham' for 100% of test examples (200 of 200)")), c.flags.join(' | '));
  assert.ok(c.flags.some((f) => f.startsWith("no better than always answering 'ham' (accuracy 0.700 vs 0.700")), c.flags.join(' | '));
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
