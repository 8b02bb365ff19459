import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildLossGraph,
  causalMask,
  compileGraph,
  createModel,
  Generator,
  initLora,
  paramShapes,
  normalizeLlamaConfig,
  ropeTables,
  ByteTokenizer,
  type HostArray,
  type LlamaConfig,
} from '../../src/engine/index.ts';
import { Rng } from '../../src/core/index.ts';

const tinyCfg = normalizeLlamaConfig({
  vocab_size: 11,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 32,
  rope_theta: 100,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
});

async function modelGradCheck(cfg: LlamaConfig, lora: boolean) {
  const B = 2,
    T = 5,
    rng = new Rng(7);
  const spec = lora
    ? { rank: 2, alpha: 4, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }
    : undefined;
  const { graph, trainable } = buildLossGraph({ cfg, batch: B, seqLen: T, withGrads: true, dtype: 'float64', lora: spec });
  const c = await compileGraph(graph);
  const feeds: Record<string, HostArray> = {};
  for (const [name, shape] of paramShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[name] = new Float64Array(n).map(() => (name.endsWith('norm.weight') ? 1 + 0.2 * rng.normal() : 0.5 * rng.normal()));
  }
  if (spec) {
    const base = createModel(cfg, { seed: 1 });
    const ad = initLora(cfg, base.weights, spec, 3);
    for (const [m, { A, B: Bm }] of ad.weights) {
      feeds[`${m}.lora_A.weight`] = Float64Array.from(A.data);
      feeds[`${m}.lora_B.weight`] = new Float64Array(Bm.data.length).map(() => 0.3 * rng.normal()); // nonzero B so A gets gradient
    }
  }
  feeds.tokens = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(cfg.vocab_size)));
  feeds.targets = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(cfg.vocab_size)));
  feeds.loss_weights = new Float64Array(B * T).map((_, i) => (i % 4 === 3 ? 0 : 0.1));
  const rt = ropeTables(cfg, [[...Array(T).keys()]], 'float64');
  feeds.rope_cos = rt.cos;
  feeds.rope_sin = rt.sin;
  feeds.attn_mask = causalMask(T, 'float64');
  const base = await c.run(feeds);
  const loss = async () => Number((await c.run(feeds, ['loss'])).loss[0]);
  let worst = 0,
    checked = 0;
  for (const name of trainable) {
    const x = feeds[name] as Float64Array;
    const ga = base[`grad:${name}`] as Float64Array;
    for (let s = 0; s < 3; s++) {
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
      checked++;
    }
  }
  await c.session.release();
  return { worst, checked, n: trainable.length };
}

test('whole-model gradient check (float64, full fine-tuning, GQA, tied embeddings)', async () => {
  const r = await modelGradCheck(tinyCfg, false);
  assert.equal(r.n, paramShapes(tinyCfg).length);
  assert.ok(r.worst < 1e-5, `worst relative error ${r.worst} over ${r.checked} elements`);
});

test('whole-model gradient check (float64, LoRA on all target modules, untied head)', async () => {
  const r = await modelGradCheck({ ...tinyCfg, tie_word_embeddings: false, num_key_value_heads: 4 }, true);
  assert.equal(r.n, 2 * 7 * 2);
  assert.ok(r.worst < 1e-5, `worst relative error ${r.worst} over ${r.checked} elements`);
});

const genCfg = {
  vocab_size: 259,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 128,
  tie_word_embeddings: false,
  eos_token_id: 257,
};

test('KV-cache generation equals full-recompute logits', async () => {
  const m = createModel(genCfg, { seed: 5 });
  const gen = new Generator(m, { capStep: 16 });
  const prompts = [
    [256, 10, 20, 30, 40, 50],
    [256, 7],
  ];
  const out = await gen.generate(prompts, { maxTokens: 24, eosTokenId: [], topLogprobs: 3 });
  for (let b = 0; b < prompts.length; b++) {
    assert.equal(out[b].tokens.length, 24);
    assert.equal(out[b].finishReason, 'length');
    const seq = [...prompts[b], ...out[b].tokens];
    const [lg] = await gen.logits([seq]);
    const V = genCfg.vocab_size;
    for (let i = 0; i < out[b].tokens.length; i++) {
      const row = prompts[b].length - 1 + i;
      let mx = -Infinity,
        arg = 0;
      for (let v = 0; v < V; v++)
        if (lg[row * V + v] > mx) {
          mx = lg[row * V + v];
          arg = v;
        }
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(lg[row * V + v] - mx);
      assert.equal(out[b].tokens[i], arg, `greedy token ${i} of row ${b}`);
      const lp = lg[row * V + out[b].tokens[i]] - mx - Math.log(s);
      assert.ok(Math.abs(lp - out[b].logprobs![i].logprob) < 1e-4, `logprob ${i}: ${lp} vs ${out[b].logprobs![i].logprob}`);
      assert.equal(out[b].logprobs![i].top[0].token, arg);
    }
  }
});

test('sampling is deterministic for a seed and varies across seeds; top-k 1 equals greedy', async () => {
  const m = createModel(genCfg, { seed: 6 });
  const gen = new Generator(m);
  const p = [[256, 1, 2, 3]];
  const a = await gen.generate(p, { maxTokens: 20, temperature: 1, topP: 0.95, seed: 42, eosTokenId: [] });
  const b = await gen.generate(p, { maxTokens: 20, temperature: 1, topP: 0.95, seed: 42, eosTokenId: [] });
  const c = await gen.generate(p, { maxTokens: 20, temperature: 1, topP: 0.95, seed: 43, eosTokenId: [] });
  assert.deepEqual(a[0].tokens, b[0].tokens);
  assert.notDeepEqual(a[0].tokens, c[0].tokens);
  const g = await gen.generate(p, { maxTokens: 10, eosTokenId: [] });
  const k1 = await gen.generate(p, { maxTokens: 10, temperature: 0.8, topK: 1, seed: 9, eosTokenId: [] });
  assert.deepEqual(g[0].tokens, k1[0].tokens);
});

test('batched generation equals one-by-one generation', async () => {
  const m = createModel(genCfg, { seed: 8 });
  const gen = new Generator(m, { capStep: 16 });
  const prompts = [
    [256, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
    [256, 3],
    [256, 40, 41],
  ];
  const all = await gen.generate(prompts, { maxTokens: 12, eosTokenId: [] });
  for (let i = 0; i < prompts.length; i++) {
    const one = await gen.generate([prompts[i]], { maxTokens: 12, eosTokenId: [] });
    assert.deepEqual(all[i].tokens, one[0].tokens, `row ${i}`);
  }
});

test('stop sequences cut decoded text; EOS ends a row', async () => {
  const tok = new ByteTokenizer();
  const m = createModel(genCfg, { seed: 9 });
  const gen = new Generator(m);
  const free = await gen.generate([tok.encode('hi', { addSpecialTokens: true })], { maxTokens: 16, eosTokenId: [], tokenizer: tok });
  const text = free[0].text!;
  assert.ok(text.length > 0);
  // choose a stop string from the middle of what the model says
  const stopAt = Math.floor(text.length / 2);
  const stop = text.slice(stopAt, stopAt + 1);
  const cut = await gen.generate([tok.encode('hi', { addSpecialTokens: true })], {
    maxTokens: 16,
    eosTokenId: [],
    tokenizer: tok,
    stop: [stop],
  });
  assert.equal(cut[0].finishReason, 'stop');
  assert.equal(cut[0].text, text.slice(0, text.indexOf(stop)));
  const firstTok = free[0].tokens[0];
  const e = await gen.generate([tok.encode('hi', { addSpecialTokens: true })], { maxTokens: 16, eosTokenId: firstTok });
  assert.equal(e[0].finishReason, 'eos');
  assert.deepEqual(e[0].tokens, []);
});

test('candidate scoring equals summed token log-probs from the full forward', async () => {
  const m = createModel(genCfg, { seed: 10 });
  const gen = new Generator(m);
  const prompts = [
    [256, 1, 2, 3],
    [256, 9],
  ];
  const cands = [[4], [5, 6], [7, 8, 9]];
  const scores = await gen.scoreCandidates(prompts, cands);
  const V = genCfg.vocab_size;
  for (let p = 0; p < prompts.length; p++)
    for (let c = 0; c < cands.length; c++) {
      const seq = [...prompts[p], ...cands[c]];
      const [lg] = await gen.logits([seq]);
      let want = 0;
      for (let t = prompts[p].length - 1; t < seq.length - 1; t++) {
        let mx = -Infinity;
        for (let v = 0; v < V; v++) mx = Math.max(mx, lg[t * V + v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(lg[t * V + v] - mx);
        want += lg[t * V + seq[t + 1]] - mx - Math.log(s);
      }
      assert.ok(Math.abs(scores[p][c].logprob - want) < 1e-4, `p${p} c${c}: ${scores[p][c].logprob} vs ${want}`);
      assert.equal(scores[p][c].tokens, cands[c].length);
    }
});

test('exported ONNX inference graph (weights embedded) gives the same logits in a plain onnxruntime session', async () => {
  const ort = await import('onnxruntime-node');
  const { exportOnnx } = await import('../../src/engine/index.ts');
  const m = createModel(genCfg, { seed: 12 });
  const bytes = exportOnnx(m, { batch: 1, seqLen: 8 });
  const s = await ort.InferenceSession.create(bytes);
  const ids = [256, 3, 4, 5, 6, 7, 8, 9];
  const out = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, 8]) });
  const [want] = await new Generator(m, { padMultiple: 8 }).logits([ids]);
  const got = out.logits.data as Float32Array;
  assert.equal(got.length, want.length);
  let maxd = 0;
  for (let i = 0; i < got.length; i++) maxd = Math.max(maxd, Math.abs(got[i] - want[i]));
  assert.ok(maxd < 1e-4, `max diff ${maxd}`);
  await s.release();
});

test('evicted cached sessions are released only after their runs, and held ones recompile transparently', async () => {
  const { compileCached, GROUP_LIMITS, Graph } = await import('../../src/engine/index.ts');
  const old = GROUP_LIMITS.t;
  GROUP_LIMITS.t = 1;
  try {
    const build = (k: number) => () => {
      const g = new Graph();
      const x = g.input('x', [2]);
      g.output('y', g.mul(x, k));
      return g;
    };
    const a = await compileCached('evict-a', build(2), 't');
    const pending = a.run({ x: Float32Array.of(1, 2) });
    await compileCached('evict-b', build(3), 't'); // evicts a while its run is pending
    assert.deepEqual([...(await pending).y], [2, 4]);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual([...(await a.run({ x: Float32Array.of(5, 6) })).y], [10, 12]);
  } finally {
    GROUP_LIMITS.t = old as number;
    if (old === undefined) delete GROUP_LIMITS.t;
  }
});

test('fused q/k/v and gate/up decode weights give the same generation and logits', async () => {
  const m = createModel({ ...genCfg, num_key_value_heads: 2 }, { seed: 13 });
  const a = new Generator(m),
    b = new Generator(m, { fuseProjections: true });
  const p = [
    [256, 1, 2, 3, 4],
    [256, 9],
  ];
  const ga = await a.generate(p, { maxTokens: 10, eosTokenId: [] }),
    gb = await b.generate(p, { maxTokens: 10, eosTokenId: [] });
  assert.deepEqual(
    ga.map((x) => x.tokens),
    gb.map((x) => x.tokens),
  );
  const [la] = await a.logits([p[0]]),
    [lb] = await b.logits([p[0]]);
  let maxd = 0;
  for (let i = 0; i < la.length; i++) maxd = Math.max(maxd, Math.abs(la[i] - lb[i]));
  assert.ok(maxd < 1e-4, `max diff ${maxd}`);
});

test('generation stops when its signal aborts', async () => {
  const m = createModel(genCfg, { seed: 14 });
  const gen = new Generator(m);
  const ac = new AbortController();
  const seen: number[] = [];
  const out = await gen.generate([[256, 1]], {
    maxTokens: 50,
    eosTokenId: [],
    signal: ac.signal,
    onToken: (_r, t) => {
      seen.push(t);
      if (seen.length === 4) ac.abort();
    },
  });
  assert.equal(out[0].tokens.length, 4);
  assert.equal(out[0].finishReason, 'length');
});
