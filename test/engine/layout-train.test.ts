// Fine-tuning the bring-your-own layouts: gradients through qwen2's biases and qwen3's q/k norms (float64 central
// differences), LoRA on each fixture checkpoint (loss drops, base weights incl. biases and norms untouched), merge
// (merged model = base + adapter), KV-cache decoding, and the merged model / adapter saved and reloaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Generator,
  Trainer,
  buildLossGraph,
  causalMask,
  compileGraph,
  loadHfModel,
  loadPeftAdapter,
  mergeLora,
  normalizeLlamaConfig,
  paramShapes,
  ropeTables,
  saveHfModel,
  savePeftAdapter,
  train,
  type HostArray,
  type LlamaConfig,
  type LoraAdapter,
  type TrainExample,
  type Weights,
} from '../../src/engine/index.ts';
import { Rng } from '../../src/core/index.ts';
import { LAYOUTS, load } from './layout-util.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-layout-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** float64 loss graph of full fine-tuning: autodiff gradient vs central differences on a few elements of every tensor */
async function gradCheck(cfg: LlamaConfig): Promise<{ worst: number; names: string[] }> {
  const B = 2,
    T = 5,
    rng = new Rng(11);
  const { graph, trainable } = buildLossGraph({ cfg, batch: B, seqLen: T, withGrads: true, dtype: 'float64' });
  const c = await compileGraph(graph);
  const feeds: Record<string, HostArray> = {};
  for (const [name, shape] of paramShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[name] = new Float64Array(n).map(() => (name.endsWith('norm.weight') ? 1 + 0.3 * rng.normal() : 0.5 * rng.normal()));
  }
  feeds.tokens = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(cfg.vocab_size)));
  feeds.targets = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(cfg.vocab_size)));
  feeds.loss_weights = new Float64Array(B * T).fill(0.1);
  const rt = ropeTables(cfg, [[...Array(T).keys()]], 'float64');
  Object.assign(feeds, { rope_cos: rt.cos, rope_sin: rt.sin, attn_mask: causalMask(T, 'float64') });
  const base = await c.run(feeds);
  const loss = async () => Number((await c.run(feeds, ['loss'])).loss[0]);
  let worst = 0;
  for (const name of trainable) {
    const x = feeds[name] as Float64Array;
    const ga = base[`grad:${name}`] as Float64Array;
    for (let s = 0; s < 2; s++) {
      const k = rng.int(x.length),
        eps = 1e-6,
        o = x[k];
      x[k] = o + eps;
      const lp = await loss();
      x[k] = o - eps;
      const lm = await loss();
      x[k] = o;
      const num = (lp - lm) / (2 * eps);
      worst = Math.max(worst, Math.abs(num - ga[k]) / Math.max(1e-4, Math.abs(num), Math.abs(ga[k])));
    }
  }
  await c.session.release();
  return { worst, names: trainable };
}

const small = {
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 23,
};

test('float64 gradients through qwen2 q/k/v biases and qwen3 q/k norms (head_dim 8 != 16/4) match central differences', async () => {
  const q2 = await gradCheck(normalizeLlamaConfig({ ...small, model_type: 'qwen2', tie_word_embeddings: true }));
  assert.ok(q2.names.includes('model.layers.0.self_attn.k_proj.bias'));
  assert.ok(q2.worst < 1e-5, `qwen2 worst relative error ${q2.worst}`);
  const q3 = await gradCheck(normalizeLlamaConfig({ ...small, model_type: 'qwen3', head_dim: 8 }));
  assert.ok(q3.names.includes('model.layers.0.self_attn.q_norm.weight'));
  assert.ok(q3.worst < 1e-5, `qwen3 worst relative error ${q3.worst}`);
});

/** a toy task: after "a b" comes "c", for random triples of a fixed mapping */
function toyData(seed: number, vocab: number, n: number): TrainExample[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => {
    const a = r.int(vocab),
      b = r.int(vocab);
    return { ids: [a, b, (a * 7 + b * 3) % vocab, (a + b) % vocab], mask: [0, 0, 1, 1] };
  });
}

const same = (a: Weights, b: Weights) =>
  [...a].every(([k, t]) => {
    const u = b.get(k)!.data;
    return t.data.length === u.length && t.data.every((x, i) => Object.is(x, u[i]));
  });

const adapters = new Map<string, LoraAdapter>();

for (const name of LAYOUTS) {
  test(`${name}: LoRA fine-tuning lowers the loss and leaves the base (biases, norms) bit-identical; merged = base + adapter`, async () => {
    const m = load(name);
    const snapshot: Weights = new Map([...m.weights].map(([k, t]) => [k, { shape: t.shape, data: t.data.slice() }]));
    const data = toyData(3, 290, 32);
    const model = { config: m.config, weights: m.weights };
    const lora = {
      rank: 4,
      alpha: 8,
      dropout: 0,
      targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    };
    const r = await train(
      model,
      data,
      { lr: 1e-2, batchSize: 16, maxSteps: 12, epochs: 100, lora, seed: 1, warmupSteps: 0, schedule: 'constant' },
      () => {},
    );
    const first = r.losses[0],
      last = r.losses[r.losses.length - 1];
    console.log(`# ${name}: LoRA loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${r.steps} steps`);
    assert.ok(last < first * 0.85, `${name}: loss ${first} -> ${last}`);
    assert.ok(same(snapshot, m.weights), 'base weights changed');
    const adapter = r.adapter!;
    adapters.set(name, adapter);
    // merged weights without the adapter give the same loss as the base with the adapter applied in the graph
    const merged = mergeLora(m.weights, adapter);
    for (const k of m.weights.keys()) if (!k.endsWith('_proj.weight')) assert.equal(merged.get(k), m.weights.get(k), `${k} kept`);
    const withAdapter = await new Trainer(model, { lora: adapter, seed: 1 }).evalLoss(data);
    const onMerged = await new Trainer({ config: m.config, weights: merged }, { seed: 1 }).evalLoss(data);
    assert.ok(Math.abs(withAdapter - onMerged) < 1e-4, `${withAdapter} vs ${onMerged}`);
    assert.ok(withAdapter < first * 0.85);
    // and the same logits (the generator merges the adapter itself)
    const seqs = [data[0].ids, data[1].ids.slice(0, 3)];
    const a = await new Generator(model, { adapter }).logits(seqs);
    const b = await new Generator({ config: m.config, weights: merged }).logits(seqs);
    a.forEach((x, i) => x.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) < 1e-4)));
  });
}

test('qwen3 and qwen2: KV-cache greedy decoding equals full recompute', async () => {
  for (const name of ['qwen3', 'qwen2']) {
    const m = load(name);
    const gen = new Generator({ config: m.config, weights: m.weights }, { capStep: 16 });
    const prompt = [296, 10, 20, 30];
    const [out] = await gen.generate([prompt], { maxTokens: 10, eosTokenId: [] });
    const seq = [...prompt, ...out.tokens];
    const [lg] = await gen.logits([seq]);
    const V = m.config.vocab_size;
    for (let i = 0; i < out.tokens.length; i++) {
      const row = lg.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
      assert.equal(out.tokens[i], row.indexOf(Math.max(...row)), `${name} token ${i}`);
    }
  }
});

test('merged qwen2 model and its PEFT adapter save and reload (model_type, biases, tokenizer, chat template kept)', async () => {
  const m = load('qwen2');
  const adapter = adapters.get('qwen2') ?? [...adapters.values()][0];
  assert.ok(adapter, 'the LoRA test ran first');
  const dir = path.join(tmp, 'merged');
  const merged = mergeLora(m.weights, adapter);
  saveHfModel(dir, { config: m.config, weights: merged, tokenizer: m.tokenizer, tokenizerConfig: m.tokenizerConfig }, { dtype: 'F32' });
  const back = loadHfModel(dir);
  assert.equal(back.config.model_type, 'qwen2');
  assert.deepEqual(back.config.architectures, ['Qwen2ForCausalLM']);
  assert.deepEqual(
    back.weights.get('model.layers.1.self_attn.v_proj.bias')!.data,
    m.weights.get('model.layers.1.self_attn.v_proj.bias')!.data,
  );
  assert.equal(back.tokenizerConfig.chat_template, m.tokenizerConfig.chat_template);
  assert.deepEqual(back.tokenizer!.encode('the cat 2024'), m.tokenizer!.encode('the cat 2024'));
  const adir = path.join(tmp, 'adapter');
  savePeftAdapter(adir, adapter, { baseModelNameOrPath: 'fixtures/qwen2' });
  const la = loadPeftAdapter(adir);
  const seq = [[296, 5, 6, 7]];
  const x = await new Generator({ config: back.config, weights: back.weights }).logits(seq);
  const y = await new Generator({ config: m.config, weights: m.weights }, { adapter: la.adapter }).logits(seq);
  x[0].forEach((v, i) => assert.ok(Math.abs(v - y[0][i]) < 1e-4));
});
