import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  buildLossGraph,
  compileGraph,
  createModel,
  train,
  paramShapes,
  ropeTables,
  causalMask,
  runtimeSettings,
  type HostArray,
  type LlamaModel,
  type Weights,
} from '../../src/engine/index.ts';
import { Rng } from '../../src/core/index.ts';

const hash = (w: Weights) => {
  const h = createHash('sha256');
  for (const [k, t] of [...w].sort(([a], [b]) => a.localeCompare(b))) {
    h.update(k);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
};

test('full fine-tuning with the same seed twice gives bit-identical weights (multi-threaded runtime)', async () => {
  // big enough that onnxruntime's ScatterND(add) would split the embedding gradient across threads (2048 rows × 256)
  const cfg = {
    vocab_size: 512,
    hidden_size: 256,
    intermediate_size: 256,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 256,
    tie_word_embeddings: true,
  };
  const rng = new Rng(11);
  const recs = Array.from({ length: 16 }, () => ({ ids: Array.from({ length: 256 }, () => rng.int(200)) }));
  const once = async (): Promise<LlamaModel> => {
    const m = createModel(cfg, { seed: 4 });
    await train(m, recs, { lr: 1e-3, batchSize: 8, epochs: 1, seed: 9 });
    return m;
  };
  const a = await once(),
    b = await once();
  assert.ok(runtimeSettings().threads >= 1);
  assert.equal(hash(a.weights), hash(b.weights));
});

test('loss graph: embedding rows fed in (gradient scattered by the caller) and LM head at target rows only equal the plain graph (float64)', async () => {
  const cfg = createModel({
    vocab_size: 13,
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    max_position_embeddings: 16,
    tie_word_embeddings: true,
  }).config;
  const B = 2,
    T = 6,
    D = cfg.hidden_size,
    rng = new Rng(3);
  const feeds: Record<string, HostArray> = {};
  for (const [name, shape] of paramShapes(cfg))
    feeds[name] = new Float64Array(shape.reduce((x, y) => x * y, 1)).map(() => (name.endsWith('norm.weight') ? 1 : 0.4 * rng.normal()));
  const tokens = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(cfg.vocab_size)));
  const targets = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(cfg.vocab_size)));
  const w = new Float64Array(B * T);
  const at = [4, 5, 10];
  for (const i of at) w[i] = 1 / at.length;
  const rt = ropeTables(cfg, [[...Array(T).keys()]], 'float64');
  const common = { rope_cos: rt.cos, rope_sin: rt.sin, attn_mask: causalMask(T, 'float64') };
  const plain = await compileGraph(buildLossGraph({ cfg, batch: B, seqLen: T, withGrads: true, dtype: 'float64' }).graph);
  const ref = await plain.run({ ...feeds, ...common, tokens, targets, loss_weights: w });
  const K = 4,
    idx = BigInt64Array.from([...at, 0].map(BigInt));
  const kt = BigInt64Array.from([...at.map((i) => targets[i]), 0n]),
    kw = Float64Array.from([...at.map((i) => w[i]), 0]);
  const emb = feeds['model.embed_tokens.weight'] as Float64Array;
  const rows = new Float64Array(B * T * D);
  for (let i = 0; i < B * T; i++) rows.set(emb.subarray(Number(tokens[i]) * D, Number(tokens[i]) * D + D), i * D);
  const fast = await compileGraph(
    buildLossGraph({ cfg, batch: B, seqLen: T, withGrads: true, dtype: 'float64', embedRows: true, targetRows: K }).graph,
  );
  const out = await fast.run({ ...feeds, ...common, embed_rows: rows, target_index: idx, targets: kt, loss_weights: kw });
  assert.ok(Math.abs(Number(out.loss[0]) - Number(ref.loss[0])) < 1e-12);
  const ge = Float64Array.from(out['grad:model.embed_tokens.weight'] as Float64Array),
    gr = out['grad:embed_rows'] as Float64Array;
  for (let i = 0; i < B * T; i++) for (let d = 0; d < D; d++) ge[Number(tokens[i]) * D + d] += gr[i * D + d];
  const close = (x: Float64Array, y: Float64Array, name: string) => {
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) < 1e-10, `${name}[${i}] ${x[i]} vs ${y[i]}`);
  };
  close(ge, ref['grad:model.embed_tokens.weight'] as Float64Array, 'embed');
  for (const [name] of paramShapes(cfg))
    if (name !== 'model.embed_tokens.weight') close(out[`grad:${name}`] as Float64Array, ref[`grad:${name}`] as Float64Array, name);
  await plain.release();
  await fast.release();
});
