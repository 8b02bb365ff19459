import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adamwUpdate, scheduleLr, sumSquares, epochPlan, makeBatch } from '../../src/engine/index.ts';

test('AdamW matches the PyTorch formula over three steps (decoupled weight decay)', () => {
  const o = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.5 };
  const p = Float32Array.of(1, -2),
    m = new Float32Array(2),
    v = new Float32Array(2);
  const ref = [1, -2],
    rm = [0, 0],
    rv = [0, 0];
  const grads = [
    [0.5, -1],
    [0.2, 0.3],
    [-0.4, 2],
  ];
  grads.forEach((g, k) => {
    adamwUpdate(p, Float32Array.from(g), m, v, k + 1, o, true);
    for (let i = 0; i < 2; i++) {
      ref[i] *= 1 - o.lr * o.weightDecay;
      rm[i] = o.beta1 * rm[i] + (1 - o.beta1) * g[i];
      rv[i] = o.beta2 * rv[i] + (1 - o.beta2) * g[i] * g[i];
      const mh = rm[i] / (1 - o.beta1 ** (k + 1)),
        vh = rv[i] / (1 - o.beta2 ** (k + 1));
      ref[i] -= (o.lr * mh) / (Math.sqrt(vh) + o.eps);
    }
  });
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(p[i] - ref[i]) < 1e-5, `${p[i]} vs ${ref[i]}`);
  assert.ok(Math.abs(sumSquares(Float32Array.of(1, 2, 3, 4, 5)) - 55) < 1e-9);
});

test('warmup then cosine decay to minLrRatio', () => {
  const o = { lr: 1, warmupSteps: 4, totalSteps: 14, schedule: 'cosine' as const, minLrRatio: 0.1 };
  assert.ok(scheduleLr(0, o) > 0 && scheduleLr(0, o) < scheduleLr(3, o));
  assert.equal(scheduleLr(4, o), 1);
  assert.ok(Math.abs(scheduleLr(9, o) - 0.55) < 1e-12);
  assert.ok(Math.abs(scheduleLr(14, o) - 0.1) < 1e-12);
  assert.equal(scheduleLr(7, { ...o, schedule: 'constant' }), 1);
});

test('epoch plans are seeded permutations grouped by length; batches mask and pad correctly', () => {
  const lengths = Array.from({ length: 50 }, (_, i) => 5 + ((i * 37) % 40));
  const a = epochPlan(lengths, 4, 1, 0, 4),
    b = epochPlan(lengths, 4, 1, 0, 4),
    c = epochPlan(lengths, 4, 1, 1, 4);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(
    a.flat().sort((x, y) => x - y),
    [...Array(50).keys()],
  );
  const batch = makeBatch(
    [{ ids: [5, 6, 7, 8], mask: [0, 0, 1, 1] }, { ids: [9, 10] }],
    { maxSeqLen: 64, padMultiple: 16, padId: 3 },
    undefined,
    3,
  );
  assert.equal(batch.B, 3);
  assert.equal(batch.T, 16);
  assert.equal(batch.nTargets, 3);
  assert.equal(batch.tokens[4], 3n); // padding
  assert.deepEqual([...batch.targets.slice(0, 3)], [0n, 7n, 8n]);
  assert.deepEqual(
    [...batch.weights.slice(0, 3)].map((w) => +w.toFixed(4)),
    [0, 0.3333, 0.3333],
  );
  assert.equal(batch.targets[16], 10n);
  assert.equal(
    batch.weights.slice(32).reduce((s, w) => s + w, 0),
    0,
  );
});

test('gradient clipping scales the step gradient to the clip norm', async () => {
  const { createModel, Trainer } = await import('../../src/engine/index.ts');
  const cfg = {
    vocab_size: 50,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    max_position_embeddings: 32,
  };
  const ex = [{ ids: [1, 2, 3, 4, 5, 6, 7, 8] }, { ids: [9, 8, 7, 6, 5] }];
  const a = new Trainer(createModel(cfg, { seed: 1 }), { clipNorm: null }),
    b = new Trainer(createModel(cfg, { seed: 1 }), { clipNorm: 1e-3 });
  const ra = await a.step(ex),
    rb = await b.step(ex);
  assert.ok(Math.abs(ra.gradNorm - rb.gradNorm) < 1e-6 * ra.gradNorm && ra.gradNorm > 1e-3);
  const ma = a.checkpointData().tensors.get('m:model.embed_tokens.weight')!.data,
    mb = b.checkpointData().tensors.get('m:model.embed_tokens.weight')!.data;
  const k = ma.findIndex((x) => Math.abs(x) > 1e-6);
  assert.ok(k >= 0);
  assert.ok(Math.abs(mb[k] / ma[k] - 1e-3 / ra.gradNorm) < 1e-3 * (1e-3 / ra.gradNorm), `${mb[k] / ma[k]} vs ${1e-3 / ra.gradNorm}`);
});

test('sampling: top-k and top-p keep exactly the right tokens; frequencies follow the distribution', async () => {
  const { sampleToken } = await import('../../src/engine/index.ts');
  const { Rng } = await import('../../src/core/index.ts');
  const V = 1000;
  const logits = new Float32Array(V).map((_, i) => (i < 3 ? [3, 2, 1][i] : -5 + (i % 7) * 0.01));
  const rng = new Rng(5);
  const count = (o: any, n = 3000) => {
    const c = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const t = sampleToken(logits, 0, V, o, rng);
      c.set(t, (c.get(t) ?? 0) + 1);
    }
    return c;
  };
  const k2 = count({ temperature: 1, topK: 2 });
  assert.deepEqual(
    [...k2.keys()].sort((a, b) => a - b),
    [0, 1],
  );
  const e = [Math.exp(3), Math.exp(2)];
  assert.ok(Math.abs(k2.get(0)! / 3000 - e[0] / (e[0] + e[1])) < 0.04);
  // mass of token 0 alone is below 0.5 of all (many small tokens): top-p 0.5 must include token 1 too
  const total =
    Math.exp(3) +
    Math.exp(2) +
    Math.exp(1) +
    Array.from({ length: V - 3 }, (_, j) => Math.exp(-5 + ((j + 3) % 7) * 0.01)).reduce((a, b) => a + b, 0);
  const p0 = Math.exp(3) / total,
    p01 = (Math.exp(3) + Math.exp(2)) / total;
  const want = p0 >= 0.5 ? [0] : p01 >= 0.5 ? [0, 1] : [0, 1, 2];
  assert.deepEqual(
    [...count({ temperature: 1, topP: 0.5 }).keys()].sort((a, b) => a - b),
    want,
  );
  // plain temperature sampling reaches the tail
  const all = count({ temperature: 1 }, 4000);
  assert.ok([...all.keys()].some((t) => t >= 3));
  assert.equal(sampleToken(logits, 0, V, { temperature: 0 }, rng), 0);
});
