// Memory changes of the LoRA training graph (bench/size): recomputed activations and a chunked LM head give the same
// loss and gradients bit for bit as the plain graph, and LoRA steps give the same losses and adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rematByDefault } from '../../src/engine/llama.ts';
import {
  buildLossGraph,
  causalMask,
  createModel,
  initLora,
  ropeTables,
  runGraph,
  Trainer,
  type HostArray,
  type LoraSpec,
  type LlamaConfig,
} from '../../src/engine/index.ts';

const cfg = {
  vocab_size: 97,
  hidden_size: 48,
  intermediate_size: 80,
  num_hidden_layers: 2,
  num_attention_heads: 6,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  tie_word_embeddings: true,
};
const spec: LoraSpec = { rank: 4, alpha: 8, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] };

const cases: { name: string; lora?: LoraSpec }[] = [
  { name: 'LoRA', lora: spec },
  { name: 'LoRA with dropout', lora: { ...spec, dropout: 0.1 } },
  { name: 'full fine-tuning' },
];
for (const c of cases)
  test(`${c.name} loss graph: recomputed activations and a chunked head give bit-identical loss and gradients`, async () => {
    const model = createModel(cfg, { seed: 5 });
    const lora = c.lora ? initLora(model.config, model.weights, c.lora, 3) : undefined;
    const Bn = 3,
      T = 16,
      D = cfg.hidden_size;
    const feeds: Record<string, HostArray> = {};
    for (const [n, t] of model.weights) feeds[n] = t.data;
    if (lora)
      for (const [m, { A, B }] of lora.weights) {
        for (let i = 0; i < B.data.length; i++) B.data[i] = Math.sin(i * 1.7) * 0.05;
        feeds[`${m}.lora_A.weight`] = A.data;
        feeds[`${m}.lora_B.weight`] = B.data;
        feeds[`${m}.lora_dropout_mask`] = Float32Array.from({ length: Bn * T * A.shape[1] }, (_, i) => (i % 7 === 3 ? 0 : 1 / 0.9));
      }
    const ids = Array.from({ length: Bn * T }, (_, i) => (i * 37 + 11) % cfg.vocab_size);
    const emb = model.weights.get('model.embed_tokens.weight')!.data;
    feeds.tokens = BigInt64Array.from(ids, BigInt);
    feeds.embed_rows = Float32Array.from({ length: Bn * T * D }, (_, i) => emb[ids[Math.floor(i / D)] * D + (i % D)]);
    feeds.targets = BigInt64Array.from({ length: Bn * T }, (_, i) => BigInt((i * 53 + 5) % cfg.vocab_size));
    feeds.loss_weights = Float32Array.from({ length: Bn * T }, (_, i) => (i % 5 === 0 ? 0 : 1 / (Bn * T)));
    const { cos, sin } = ropeTables(model.config, [[...Array(T).keys()]]);
    Object.assign(feeds, { rope_cos: cos, rope_sin: sin, attn_mask: causalMask(T) });
    const run = async (remat: boolean, headChunk: number) => {
      const { graph, trainable } = buildLossGraph({
        cfg: model.config,
        batch: Bn,
        seqLen: T,
        lora: c.lora,
        withGrads: true,
        embedRows: !c.lora,
        remat,
        headChunk,
      });
      const used: Record<string, HostArray> = {};
      for (const v of graph.inputs) used[v.name] = feeds[v.name];
      return { out: await runGraph(graph, used), trainable, graph };
    };
    const plain = await run(false, Bn * T);
    const lean = await run(true, 7);
    const firstGrad = lean.graph.nodes.findIndex((n) => n.op === 'TokenLogprobsGrad');
    assert.ok(
      lean.graph.nodes.slice(firstGrad).some((n) => n.op === 'Softmax'),
      'attention probabilities recomputed in the backward pass',
    );
    assert.equal((lean.out.loss as Float32Array)[0], (plain.out.loss as Float32Array)[0]);
    const names = [...plain.trainable.map((n) => `grad:${n}`), ...(c.lora ? [] : ['grad:embed_rows'])];
    for (const name of names) assert.deepEqual(lean.out[name], plain.out[name], name);
  });

test('LoRA Trainer on the rematerialised graph: loss goes down, base weights unchanged', async () => {
  const rows = Array.from({ length: 4 }, (_, r) => ({
    ids: Array.from({ length: 20 - r }, (_, i) => (i * 31 + r * 7 + 3) % cfg.vocab_size),
  }));
  const model = createModel(cfg, { seed: 9 });
  const before = new Map([...model.weights].map(([n, t]) => [n, t.data.slice()]));
  const tr = new Trainer(model, { lr: 1e-2, lora: { ...spec, dropout: 0.1 }, seed: 4, remat: true });
  const losses: number[] = [];
  for (let i = 0; i < 4; i++) losses.push((await tr.step(rows)).loss);
  assert.ok(losses[3] < losses[0], `loss goes down: ${losses}`);
  for (const [n, t] of model.weights) assert.deepEqual(t.data, before.get(n), n);
});

test('recomputation is on by default only where activations are large: SmolLM2-135M shape yes, the built-in model no', () => {
  const smol = { hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9 };
  const builtin = { hidden_size: 256, intermediate_size: 704, num_hidden_layers: 4, num_attention_heads: 4 };
  assert.equal(rematByDefault(smol as LlamaConfig, 4, 256), true);
  assert.equal(rematByDefault(builtin as LlamaConfig, 8, 224), false);
});
