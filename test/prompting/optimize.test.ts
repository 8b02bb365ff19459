// Optimizers, variant search and few-shot selection against a real OpenAI-compatible HTTP server
// whose scripted answers depend on what the prompt contains: search has real signal.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { armKind } from '../../src/experiment/arms/index.ts';
import type { ArmContext, Predictor } from '../../src/experiment/types.ts';
import { createModel } from '../../src/models/index.ts';
import type { ChatModel } from '../../src/models/types.ts';
import { Evaluator } from '../../src/prompting/index.ts';
import type { Example } from '../../src/task/types.ts';
import { startMockOpenAI, type MockServer } from '../helpers/mock-openai-server.ts';
import { ctxFor, exactScorer } from './fakes.ts';
import { respondWorld, worldExamples } from './world.ts';

let server: MockServer;
let model: ChatModel;
const train = worldExamples(60, 'tr');
const dev = worldExamples(40, 'dv');
const test_ = worldExamples(40, 'te', ' [TESTSPLIT]');
let zeroShotDev = 0;

function ctx(over: Partial<ArmContext> = {}) {
  const c = ctxFor({ mock: model }, train, dev, {
    inputFields: ['text'],
    labels: ['alpha', 'beta'],
    workDir: mkdtempSync(join(tmpdir(), 'tl-opt-')),
    ...over,
  });
  return c;
}

async function score(p: Predictor, examples: readonly Example[]): Promise<number> {
  return (await new Evaluator(p.model, exactScorer, undefined, { concurrency: 8 }).score(p.prompt, examples)).score;
}

async function prepare(cfg: Record<string, unknown>, c: ArmContext = ctx()): Promise<{ pred: Predictor; calls: number; c: ArmContext }> {
  const k = armKind(String(cfg.kind))!;
  const arm = k.create(k.schema.parse(cfg));
  const before = server.count();
  const pred = await arm.prepare(c);
  return { pred, calls: server.count() - before, c };
}

before(async () => {
  server = await startMockOpenAI({ respond: respondWorld });
  model = createModel({ id: 'mock', provider: 'openai-compatible', baseURL: server.baseURL, price: { input: 1, output: 2 } } as any);
  const { pred } = await prepare({ name: 'zero', kind: 'prompt', model: 'mock' });
  zeroShotDev = await score(pred, dev);
});
after(async () => {
  await server?.close();
});

test('zero-shot baseline is about chance on the scripted world', () => {
  assert.ok(zeroShotDev >= 0.4 && zeroShotDev <= 0.6, `zero-shot dev ${zeroShotDev}`);
});

test('fewshot: BM25 neighbours beat random demos, which beat zero-shot; no calls while preparing', async () => {
  const bm25 = await prepare({ name: 'bm25', kind: 'fewshot', model: 'mock', strategy: 'bm25', k: 3 });
  const rnd = await prepare({ name: 'rnd', kind: 'fewshot', model: 'mock', strategy: 'random', k: 3 });
  assert.equal(bm25.calls + rnd.calls, 0);
  const b = await score(bm25.pred, dev),
    r = await score(rnd.pred, dev);
  assert.ok(b >= 0.95, `bm25 dev ${b}`);
  assert.ok(b > r && r >= zeroShotDev, `bm25 ${b} random ${r} zero ${zeroShotDev}`);
});

for (const [optimizer, budget, extra] of [
  ['bootstrap', 150, { k: 4, candidates: 8 }],
  ['instructions', 120, { rounds: 2, candidates: 3 }],
  ['mipro', 200, { k: 4, trials: 12 }],
] as const) {
  test(`optimize ${optimizer}: raises dev over zero-shot within ${budget} calls counted at the server`, async () => {
    const { pred, calls } = await prepare({
      name: optimizer,
      kind: 'optimize',
      model: 'mock',
      optimizer,
      budget: { calls: budget },
      ...extra,
    });
    assert.ok(calls <= budget, `${calls} calls > budget ${budget}`);
    assert.equal(pred.spent.calls, calls, 'Predictor.spent counts every call the server saw');
    assert.ok(pred.spent.tokensIn > 0 && pred.spent.costUsd > 0);
    const d = await score(pred, dev);
    assert.ok(d >= zeroShotDev + 0.2, `${optimizer}: dev ${d} vs zero-shot ${zeroShotDev}`);
    assert.ok(
      Math.abs((pred.notes!.devScore as number) - d) < 1e-9 || (pred.notes!.devN as number) < dev.length,
      'reported dev score is the measured one',
    );
    const fp = JSON.parse(readFileSync(pred.notes!.frozenPrompt as string, 'utf8'));
    assert.equal(fp.kind, 'tunelab.frozen-prompt');
    assert.equal(fp.hash, pred.prompt.hash);
    assert.equal(fp.spent.calls, calls);
  });
}

test('optimize: a cost budget is a hard limit too', async () => {
  // each call costs about (input tokens × $1 + output × $2) / 1M; allow roughly 30 calls' worth
  const one = (await model.complete({ messages: [{ role: 'user', content: dev[0].input.text as string }] })).costUsd;
  const probe = await prepare({ name: 'probe', kind: 'optimize', model: 'mock', optimizer: 'bootstrap', budget: { calls: 10 } });
  const perCall = probe.pred.spent.costUsd / probe.pred.spent.calls;
  assert.ok(one > 0 && perCall > 0);
  const limit = perCall * 30;
  const { pred, calls } = await prepare({
    name: 'cost',
    kind: 'optimize',
    model: 'mock',
    optimizer: 'bootstrap',
    budget: { costUsd: limit },
  });
  assert.ok(pred.spent.costUsd <= limit, `spent $${pred.spent.costUsd} > $${limit}`);
  assert.ok(calls > 5 && calls < 60, `${calls} calls`);
});

test('variants: successive halving over a grid finds the best variant within budget; every score kept', async () => {
  const { pred, calls } = await prepare({
    name: 'grid',
    kind: 'variants',
    model: 'mock',
    budget: { calls: 120 },
    vary: {
      instructions: ['Label the note.', 'Colors mean alpha; animals mean beta.'],
      selection: [{ strategy: 'random' }, { strategy: 'bm25' }],
      shots: [0, 3],
    },
  });
  assert.ok(calls <= 120, `${calls} calls`);
  assert.equal(pred.spent.calls, calls);
  const rows = pred.notes!.variants as { label: string; devScore: number; devN: number; rung: number }[];
  assert.equal(rows.length, 8);
  assert.ok(
    rows.every((r) => r.devN > 0),
    'every variant got a dev score',
  );
  assert.ok(
    rows.some((r) => r.devN > rows[0].devN || r.rung > 0),
    'budget went to promising variants',
  );
  const d = await score(pred, dev);
  assert.ok(d >= zeroShotDev + 0.4, `variants dev ${d}`);
  assert.equal((pred.notes!.best as { devScore: number }).devScore, 1);
});

test('no arm reads the test split: ctx.data has no test, and instrumented test examples are untouched', async () => {
  let touched = 0;
  const trap = (e: Example): Example =>
    new Proxy(e, {
      get(t, k, r) {
        touched++;
        return Reflect.get(t, k, r);
      },
    });
  const testSet = test_.map(trap);
  const data = new Proxy({ train, dev } as Record<string, unknown>, {
    get(t, k, r) {
      if (k === 'test') throw new Error('an arm read ctx.data.test');
      return Reflect.get(t, k, r);
    },
  });
  const start = server.requests.length;
  const cfgs = [
    { name: 'p', kind: 'prompt', model: 'mock', shots: 2 },
    { name: 'f', kind: 'fewshot', model: 'mock', strategy: 'bm25', k: 2 },
    { name: 'v', kind: 'variants', model: 'mock', budget: { calls: 40 }, vary: { shots: [0, 2] } },
    { name: 'b', kind: 'optimize', model: 'mock', optimizer: 'bootstrap', budget: { calls: 40 } },
    { name: 'i', kind: 'optimize', model: 'mock', optimizer: 'instructions', budget: { calls: 40 }, rounds: 1 },
    { name: 'm', kind: 'optimize', model: 'mock', optimizer: 'mipro', budget: { calls: 40 } },
  ];
  const preds: Predictor[] = [];
  for (const cfg of cfgs) preds.push((await prepare(cfg, ctx({ data: data as any }))).pred);
  assert.equal(touched, 0, 'no test example was touched while preparing');
  const seen = JSON.stringify(server.requests.slice(start));
  assert.ok(seen.length > 1000, `${seen.length} chars seen`);
  assert.ok(
    !seen.includes('TESTSPLIT') && !/Note te\d/.test(seen),
    'no test text reached the model while preparing: ' + /.{80}(TESTSPLIT|Note te\d).{20}/.exec(seen)?.[0],
  );
  // the instrumentation works: evaluating on test (what the runner does afterwards) touches them
  await score(preds[1], testSet.slice(0, 4));
  assert.ok(touched > 0);
});

test('an exported frozen prompt loaded into a new arm reproduces its dev and test scores', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-frozen-'));
  const exportPath = join(dir, 'best.json');
  const { pred } = await prepare({
    name: 'mip',
    kind: 'optimize',
    model: 'mock',
    optimizer: 'mipro',
    budget: { calls: 150 },
    export: exportPath,
  });
  const { pred: again, calls } = await prepare({ name: 'reuse', kind: 'optimize', model: 'mock', load: exportPath });
  assert.equal(calls, 0);
  assert.equal(again.prompt.hash, pred.prompt.hash);
  const req = (p: Predictor) => p.prompt.render(test_[0]);
  assert.deepEqual(req(again), req(pred));
  const [d1, d2, t1, t2] = [await score(pred, dev), await score(again, dev), await score(pred, test_), await score(again, test_)];
  assert.equal(d2, d1);
  assert.equal(t2, t1);
  const fp = JSON.parse(readFileSync(exportPath, 'utf8'));
  if (fp.meta.devN === dev.length) assert.equal(fp.devScore, d2);
  // and through the prompt arm too (a frozen prompt is a prompt file)
  const { pred: viaPrompt } = await prepare({ name: 'pf', kind: 'prompt', model: 'mock', prompt: exportPath });
  assert.equal(viaPrompt.prompt.hash, pred.prompt.hash);
});
