import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balancedEpoch, epochPlan } from '../../src/engine/index.ts';
import { planTraining, pinsSchedule, recordChars, AUTO, LEGACY } from '../../src/experiment/arms/finetune-defaults.ts';
import type { FinetuneArmConfig } from '../../src/experiment/arms/finetune-schema.ts';

const arm = (x: Partial<FinetuneArmConfig> = {}): FinetuneArmConfig => ({ name: 'ft', kind: 'finetune', model: 'builtin', ...x });

test('balancedEpoch: as many draws as examples, spread evenly over the classes, seeded', () => {
  // 40 of a, 8 of b, 2 of c
  const groups = [...Array(40).fill('a'), ...Array(8).fill('b'), ...Array(2).fill('c')];
  const e0 = balancedEpoch(groups, 7, 0);
  assert.equal(e0.length, groups.length);
  const count = (ids: number[]) => ids.reduce<Record<string, number>>((m, i) => ((m[groups[i]] = (m[groups[i]] ?? 0) + 1), m), {});
  const c = count(e0);
  for (const k of ['a', 'b', 'c']) assert.ok(Math.abs(c[k] - 50 / 3) <= 1, `${k}: ${c[k]}`);
  // every index drawn is a valid member of its class; the minority class is cycled, not skipped
  assert.deepEqual([...new Set(e0.filter((i) => groups[i] === 'c'))].sort(), [48, 49]);
  // deterministic for (seed, epoch); another epoch continues through the majority class
  assert.deepEqual(balancedEpoch(groups, 7, 0), e0);
  const e1 = balancedEpoch(groups, 7, 1);
  const seenA = new Set([...e0, ...e1].filter((i) => groups[i] === 'a'));
  assert.ok(seenA.size >= 33, `two epochs see ${seenA.size} of the 40 majority examples`);
  // epochPlan with groups batches exactly the balanced draws
  const lengths = groups.map((_, i) => 10 + (i % 5));
  const plan = epochPlan(lengths, 8, 7, 0, 16, groups).flat();
  assert.deepEqual(
    plan.slice().sort((x, y) => x - y),
    e0.slice().sort((x, y) => x - y),
  );
  // without groups: one pass over every example
  assert.deepEqual(
    epochPlan(lengths, 8, 7, 0, 16)
      .flat()
      .sort((x, y) => x - y),
    [...groups.keys()],
  );
});

test('planTraining: no hyperparameters → the measured defaults, from the train size and labels only', () => {
  const labels = [...Array(300).keys()].map((i) => (i % 10 === 0 ? 'rare' : 'common'));
  const p = planTraining(arm({ method: 'full' }), { trainSize: 300, trainLabels: labels, closedLabels: true });
  assert.equal(p.auto, true);
  assert.equal(p.learningRate, AUTO.full.learningRate);
  assert.equal(p.balance, AUTO.balance);
  assert.equal(planTraining(arm({ balance: true }), { trainSize: 300, trainLabels: labels, closedLabels: true }).balance, true);
  assert.equal(p.evalEvery, Math.ceil(300 / 8));
  // no character count: 100 tokens a record → 30,000 tokens an epoch
  assert.equal(p.epochs, Math.max(AUTO.minEpochs, Math.min(AUTO.maxEpochs, Math.round(AUTO.tokenBudget / 30000))));
  // deterministic: the same inputs give the same plan
  assert.deepEqual(planTraining(arm({ method: 'full' }), { trainSize: 300, trainLabels: labels, closedLabels: true }), p);
  // epochs scale with data: more passes over small sets, within bounds
  const small = planTraining(arm(), { trainSize: 40, trainLabels: [], closedLabels: true });
  const large = planTraining(arm(), { trainSize: 20000, trainLabels: [], closedLabels: true });
  assert.equal(small.epochs, AUTO.maxEpochs);
  assert.equal(large.epochs, AUTO.minEpochs);
  // ... and with length: the same count of long documents gets fewer epochs than short ones
  const short = planTraining(arm(), { trainSize: 300, closedLabels: true, trainChars: 300 * 200 });
  const long = planTraining(arm(), { trainSize: 300, closedLabels: true, trainChars: 300 * 1200 });
  assert.ok(short.epochs > long.epochs, `${short.epochs} vs ${long.epochs}`);
  assert.equal(long.epochs, Math.max(AUTO.minEpochs, Math.round(AUTO.tokenBudget / ((300 * 1200) / AUTO.charsPerToken))));
  const veryLong = planTraining(arm(), { trainSize: 300, closedLabels: true, trainChars: 300 * 4000 });
  assert.equal(veryLong.epochs, AUTO.minEpochs);
  assert.equal(recordChars([{ messages: [{ content: 'abc' }, { content: 'de' }] }]), 5 + 24);
  // the answer objective by default (channel is opt-in)
  assert.equal(p.objective, AUTO.objective);
  // LoRA defaults; open-ended tasks are not balanced
  const lora = planTraining(arm(), { trainSize: 300, trainLabels: labels, closedLabels: false });
  assert.equal(lora.method, 'lora');
  assert.equal(lora.rank, AUTO.lora.rank);
  assert.equal(lora.alpha, AUTO.lora.alpha);
  assert.equal(lora.balance, false);
  assert.equal(lora.objective, 'answer');
  // explicit settings win
  assert.equal(planTraining(arm({ balance: false }), { trainSize: 300, trainLabels: labels, closedLabels: true }).balance, false);
  assert.equal(planTraining(arm({ rank: 4 }), { trainSize: 300, trainLabels: labels, closedLabels: true }).alpha, undefined);
});

test('planTraining: a config that pins the schedule trains as before (the demo is unchanged)', () => {
  const demo = arm({ method: 'lora', rank: 8, epochs: 4, learningRate: 0.002, batchSize: 8, devExamples: 48 });
  assert.equal(pinsSchedule(demo), true);
  const p = planTraining(demo, { trainSize: 600, trainLabels: ['ham', 'spam'], closedLabels: true });
  assert.deepEqual(
    {
      auto: p.auto,
      lr: p.learningRate,
      epochs: p.epochs,
      rank: p.rank,
      alpha: p.alpha,
      balance: p.balance,
      patience: p.patience,
      evalEvery: p.evalEvery,
      dev: p.devExamples,
    },
    {
      auto: false,
      lr: 0.002,
      epochs: 4,
      rank: 8,
      alpha: undefined,
      balance: false,
      patience: LEGACY.patience,
      evalEvery: undefined,
      dev: 48,
    },
  );
  assert.equal(p.objective, 'answer');
  assert.equal(planTraining(arm({ epochs: 4, objective: 'channel' }), { trainSize: 600, closedLabels: true }).objective, 'channel');
  const full = planTraining(arm({ method: 'full', epochs: 2 }), { trainSize: 10, closedLabels: true });
  assert.equal(full.learningRate, LEGACY.full.learningRate);
  assert.equal(full.devExamples, LEGACY.devExamples);
});
