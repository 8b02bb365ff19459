import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  advise,
  breakEven,
  totalCost,
  examplesToSeparate,
  DEFAULT_DECISION,
  type ArmEvidence,
  type PairResult,
  type DecisionSettings,
} from '../../src/decide/index.ts';

function arm(
  name: string,
  value: number,
  perRequestUsd: number,
  oneOffUsd: number,
  p95: number,
  extra: Partial<ArmEvidence> = {},
): ArmEvidence {
  return {
    name,
    kind: 'prompt',
    role: 'arm',
    candidate: true,
    metric: { value, ci: [value - 0.05, value + 0.05], n: 200 },
    p95LatencyMs: p95,
    cost: {
      perRequestUsd,
      perRequestCi: [perRequestUsd, perRequestUsd],
      basis: 'tokens',
      oneOff: {
        searchUsd: 0,
        searchCalls: 0,
        searchMs: 0,
        trainingUsd: oneOffUsd,
        trainingSeconds: 0,
        engineerUsd: 0,
        engineerHours: 0,
        totalUsd: oneOffUsd,
      },
      hostingPerMonthUsd: 0,
    },
    ...extra,
  };
}

// three arms worked out by hand:
//   few:  0.80, $0.002/request, no one-off,  300 ms
//   lora: 0.88, $0.0005/request, $30 training, 400 ms
//   big:  0.90, $0.01/request,  no one-off, 2000 ms
const ARMS = [arm('few', 0.8, 0.002, 0, 300), arm('lora', 0.88, 0.0005, 30, 400, { kind: 'finetune' }), arm('big', 0.9, 0.01, 0, 2000)];
const P: Record<string, number> = {
  'few|big': 0.001,
  'lora|big': 0.4,
  'few|lora': 0.01,
  'lora|few': 0.01,
  'big|few': 0.001,
  'big|lora': 0.4,
};
const compare = (a: string, b: string): PairResult => {
  const va = ARMS.find((x) => x.name === a)!.metric.value;
  const vb = ARMS.find((x) => x.name === b)!.metric.value;
  const d = va - vb;
  return { diff: d, ci: [d - 0.05, d + 0.05], p: P[`${a}|${b}`] ?? 1, test: 'mcnemar', n: 200 };
};
const run = (s: Partial<DecisionSettings>) => advise({ metric: 'accuracy', arms: ARMS, settings: { ...DEFAULT_DECISION, ...s }, compare });

test('break-even volumes are exact', () => {
  const [few, lora, big] = ARMS;
  const b = breakEven(lora, few, 12)!;
  assert.equal(b.arm, 'lora');
  assert.equal(b.against, 'few');
  assert.ok(Math.abs(b.requests - 20000) < 1e-6, `30 / (0.002 - 0.0005) = 20000, got ${b.requests}`);
  assert.ok(Math.abs(b.monthlyVolume! - 20000 / 12) < 1e-6);
  const b2 = breakEven(big, lora, 12)!;
  assert.equal(b2.arm, 'lora');
  assert.ok(Math.abs(b2.requests - 30 / 0.0095) < 1e-6);
  assert.ok(Math.abs(b2.monthlyVolume! - 2.5 / 0.0095) < 1e-9);
  assert.match(b.sentence, /\$30\.00 of extra one-off cost pays back after 20,000 requests against few/);
  assert.equal(breakEven(few, big, 12), undefined, 'few is cheaper on both counts: no trade');
  // with hosting: lora also pays $10/month for an endpoint → V* = (30/12 + 10) / 0.0015
  const hosted = { ...lora, cost: { ...lora.cost, hostingPerMonthUsd: 10 } };
  assert.ok(Math.abs(breakEven(hosted, few, 12)!.monthlyVolume! - 12.5 / 0.0015) < 1e-6);
  assert.equal(totalCost(lora.cost, 1000, 12), 30 + 12 * 1000 * 0.0005);
});

test('the advisor picks the cheapest arm tied with the best, and says it is a tie', () => {
  const r = run({ requestsPerMonth: 10000, horizonMonths: 12 });
  assert.equal(r.best, 'big');
  assert.deepEqual(r.tiedWithBest.sort(), ['big', 'lora']);
  assert.equal(r.recommendation.arm, 'lora', 'lora $90 vs big $1,200 over 12 months');
  assert.equal(r.recommendation.verdict, 'tie');
  assert.match(r.recommendation.sentences.join(' '), /cannot separate lora from big/);
  assert.ok(r.recommendation.moreTestExamples! > 200);
});

test('the choice changes with volume (break-even 263 requests/month)', () => {
  assert.equal(run({ requestsPerMonth: 200 }).recommendation.arm, 'big', 'big $24 vs lora $31.20');
  assert.equal(run({ requestsPerMonth: 300 }).recommendation.arm, 'lora', 'lora $31.80 vs big $36');
});

test('the choice changes with the latency cap and with a budget', () => {
  assert.equal(run({ requestsPerMonth: 100 }).recommendation.arm, 'big');
  const capped = run({ requestsPerMonth: 100, maxP95LatencyMs: 1000 });
  assert.equal(capped.recommendation.arm, 'lora', 'big is over the cap; lora beats few (p 0.01)');
  assert.match(
    capped.recommendation.sentences.join(' '),
    /big scores higher \(0\.900\) but p95 latency 2,000 ms is above the 1,000 ms cap/,
  );
  const budget = run({ requestsPerMonth: 10000, budget: { oneOffUsd: 10 } });
  assert.equal(budget.recommendation.arm, 'big', 'lora is over the one-off budget; few is below big');
  assert.equal(budget.recommendation.verdict, 'recommend');
  const monthly = run({ requestsPerMonth: 10000, budget: { oneOffUsd: 10, monthlyUsd: 50 } });
  assert.equal(monthly.recommendation.arm, 'few', 'big costs $100/month > $50');
});

test("no arm meets the requirements: said plainly, with each arm's figures", () => {
  const r = run({ minMetric: 0.95 });
  assert.equal(r.recommendation.verdict, 'none');
  assert.equal(r.recommendation.arm, undefined);
  assert.match(r.recommendation.sentences[0], /No arm meets the requirements/);
  assert.match(r.recommendation.sentences.join(' '), /big: accuracy 0\.900 \[0\.850, 0\.950\] is below the minimum 0\.95/);
});

test('examples needed to separate two arms: n × ((z.975 + z.8) · SE / d)²', () => {
  // diff 0.02 with CI half-width 0.05 on 200 examples: SE = 0.05 / 1.96; n = 200 × (2.8016 × SE / 0.02)²
  const se = 0.05 / 1.959963984540054;
  const want = Math.ceil(200 * (((1.959963984540054 + 0.8416212335729143) * se) / 0.02) ** 2);
  assert.equal(examplesToSeparate({ diff: 0.02, ci: [-0.03, 0.07], n: 200 }), want);
  assert.equal(examplesToSeparate({ diff: 0, ci: [-0.03, 0.03], n: 200 }), Infinity);
});
