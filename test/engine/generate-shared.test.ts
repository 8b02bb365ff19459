// Candidate scoring with the prompt computed once and shared by its candidates (prefill + continuation over
// the KV cache) equals scoring one full sequence per prompt × candidate, within float tolerance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, Generator, initLora } from '../../src/engine/index.ts';
import { Rng } from '../../src/core/index.ts';

const cfg = {
  vocab_size: 259,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 256,
  tie_word_embeddings: false,
  eos_token_id: 257,
};

/** Sharper attention than the initialization's, so positions and masks visibly change the scores. */
function sharpen(m: { weights: Map<string, { data: Float32Array }> }) {
  for (const [name, t] of m.weights) if (/q_proj|k_proj/.test(name)) for (let i = 0; i < t.data.length; i++) t.data[i] *= 6;
}

function close(a: { logprob: number; mean: number; tokens: number }[][], b: typeof a, tol: number) {
  assert.equal(a.length, b.length);
  for (let p = 0; p < a.length; p++) {
    assert.equal(a[p].length, b[p].length);
    for (let c = 0; c < a[p].length; c++) {
      assert.equal(a[p][c].tokens, b[p][c].tokens, `p${p} c${c} tokens`);
      assert.ok(Math.abs(a[p][c].logprob - b[p][c].logprob) < tol, `p${p} c${c}: ${a[p][c].logprob} vs ${b[p][c].logprob}`);
      assert.ok(Math.abs(a[p][c].mean - b[p][c].mean) < tol, `p${p} c${c} mean: ${a[p][c].mean} vs ${b[p][c].mean}`);
    }
  }
}

test('shared-prompt candidate scoring equals one sequence per prompt × candidate (lengths across buckets, > one batch)', async () => {
  const m = createModel(cfg, { seed: 21 });
  sharpen(m);
  const gen = new Generator(m, { scoreBatch: 3 });
  const rng = new Rng(4);
  // 7 prompts (more than one batch of 3), lengths 1 … 150 (several padded buckets in one batch)
  const lens = [1, 5, 16, 17, 40, 129, 150];
  const prompts = lens.map((n) => [256, ...Array.from({ length: n - 1 }, () => Math.floor(rng.next() * 256))]);
  // candidates of 1 to 5 tokens, and an empty one
  const cands = [[4], [5, 6], [7, 8, 9], [10, 11, 12, 13, 14], [], [257]];
  const shared = await gen.scoreCandidates(prompts, cands);
  const separate = await gen.scoreCandidates(prompts, cands, { shared: false });
  close(shared, separate, 1e-4);
  assert.equal(shared[0][4].logprob, 0);
  assert.equal(shared[0][4].tokens, 0);
});

test('shared-prompt scoring: per-prompt candidate lists, a LoRA adapter, and the same answer as the full forward', async () => {
  const m = createModel(cfg, { seed: 22 });
  sharpen(m);
  const adapter = initLora(m.config, m.weights, { rank: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] }, 3);
  // a non-zero B so the adapter changes the logits
  for (const { B } of adapter.weights.values()) for (let i = 0; i < B.data.length; i++) B.data[i] = 0.05 * Math.sin(i + 1);
  const gen = new Generator(m, { adapter });
  const prompts = [
    [256, 1, 2, 3],
    [256, 9],
    [256, ...Array.from({ length: 60 }, (_, i) => (i * 7) % 256)],
  ];
  const perPrompt = [[[4], [5, 6]], [[7, 8, 9]], [[10, 11], [12], [13, 14, 15, 16]]];
  const shared = await gen.scoreCandidates(prompts, perPrompt);
  close(shared, await gen.scoreCandidates(prompts, perPrompt, { shared: false }), 1e-4);
  // and the first prompt's candidates against log-softmax of full-forward logits
  const V = cfg.vocab_size;
  for (let c = 0; c < perPrompt[0].length; c++) {
    const seq = [...prompts[0], ...perPrompt[0][c]];
    const [lg] = await gen.logits([seq]);
    let want = 0;
    for (let t = prompts[0].length - 1; t < seq.length - 1; t++) {
      let mx = -Infinity;
      for (let v = 0; v < V; v++) mx = Math.max(mx, lg[t * V + v]);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(lg[t * V + v] - mx);
      want += lg[t * V + seq[t + 1]] - mx - Math.log(s);
    }
    assert.ok(Math.abs(shared[0][c].logprob - want) < 1e-4, `c${c}: ${shared[0][c].logprob} vs ${want}`);
  }
});

test('one prompt at a time, a prompt that starts like a recent one reuses its KV and scores the same', async () => {
  const m = createModel(cfg, { seed: 23 });
  sharpen(m);
  const gen = new Generator(m, { minPrefix: 8 });
  const ref = new Generator(m, { prefixCache: 0 });
  const rng = new Rng(9);
  const words = (n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * 256));
  const demos = [256, ...words(70)]; // shared instructions + demonstrations
  const other = [256, ...words(20)];
  const prompts = [
    [...demos, ...words(30)],
    [...demos, ...words(1)], // a one-token rest
    [...demos, ...words(90)], // the rest in another padded length, cache rounded up past 64
    [...other, ...words(5)], // shares too little: computed whole
    [...demos, ...words(12)],
    [...demos], // a prompt that is the start of earlier ones
  ];
  prompts.push(prompts[4]); // the same prompt again
  const cands = [[4], [5, 6], [7, 8, 9]];
  for (const p of prompts) close(await gen.scoreCandidates([p], cands), await ref.scoreCandidates([p], cands, { shared: false }), 1e-4);
  assert.ok(gen.prefixTokensReused >= 5 * 70, `reused ${gen.prefixTokensReused} tokens`);
  assert.equal(ref.prefixTokensReused, 0);
});
