import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BudgetExceeded, Evaluator, expandGrid, Meter, MeteredModel, planHalving, TemplateProgram } from '../../src/prompting/index.ts';
import { exactScorer, fakeModel } from './fakes.ts';
import { worldExamples } from './world.ts';

test('planHalving never plans past its budget, and uses all of dev when the budget allows', () => {
  for (const N of [1, 2, 5, 8, 16, 33]) {
    for (const D of [1, 7, 40, 200]) {
      for (const B of [1, 10, 50, 100, 400, 5000]) {
        const p = planHalving(N, D, 2, B);
        assert.ok(p.cost <= B, `N${N} D${D} B${B}: cost ${p.cost}`);
        assert.ok(p.candidates >= 1 && p.candidates <= N);
        for (let i = 1; i < p.m.length; i++) assert.ok(p.m[i] >= p.m[i - 1] && p.n[i] <= p.n[i - 1]);
        if (B >= N * D) assert.equal(p.m.at(-1), D);
      }
    }
  }
});

test('Meter: call and cost limits hold under concurrency; the first call of unknown price goes alone', async () => {
  let inflight = 0,
    maxInflight = 0;
  const slow = fakeModel('m', () => 'alpha');
  const inner = {
    id: 'm',
    async complete(req: any) {
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      await new Promise((r) => setTimeout(r, 5));
      inflight--;
      return slow.complete(req);
    },
  };
  const program = new TemplateProgram({ messages: [{ role: 'user', content: '{{text}}' }], labels: ['alpha', 'beta'] });
  const dev = worldExamples(40, 'dv');
  for (const budget of [{ calls: 13 }, { costUsd: 0.0005 }]) {
    const meter = new Meter(budget);
    const ev = new Evaluator(new MeteredModel(inner as any, meter), exactScorer, meter, { concurrency: 8 });
    const r = await ev.score(program, dev);
    if (budget.calls) assert.equal(meter.spent.calls, 13);
    if (budget.costUsd)
      assert.ok(meter.spent.costUsd <= budget.costUsd && meter.spent.calls > 3, `$${meter.spent.costUsd} in ${meter.spent.calls} calls`);
    assert.equal(r.complete, false);
    assert.equal(r.n, meter.spent.calls);
    await assert.rejects(new MeteredModel(inner as any, meter).complete({ messages: [] }), BudgetExceeded);
  }
  assert.ok(maxInflight > 1, 'calls do run concurrently');
});

test('expandGrid: cartesian product in declared order; large grids sampled by seed', () => {
  const g = expandGrid({ instructions: ['a', 'b'], shots: [0, 2, 4], format: ['label', 'cot'] as any });
  assert.equal(g.length, 12);
  assert.equal(g[0].label, 'instruction#1 shots=0 format=label');
  assert.equal(g[11].label, 'instruction#2 shots=4 format=cot');
  const s1 = expandGrid({ instructions: ['a', 'b', 'c'], shots: [0, 1, 2, 3] }, 5, 1).map((p) => p.label);
  assert.equal(s1.length, 5);
  assert.deepEqual(
    expandGrid({ instructions: ['a', 'b', 'c'], shots: [0, 1, 2, 3] }, 5, 1).map((p) => p.label),
    s1,
  );
});
