import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, EngineWorker, Generator, ByteTokenizer } from '../../src/engine/index.ts';

const tok = new ByteTokenizer();
const cfg = { vocab_size: tok.vocabSize, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: true, eos_token_id: 257 };
const recs = Array.from({ length: 16 }, (_, i) => ({ ids: tok.encode(`sample ${i}: the cat sat on the mat`) }));

test('EngineWorker trains off the main thread (event loop stays responsive), reports progress, cancels, generates', async () => {
  const w = new EngineWorker({ threads: 1 });
  try {
    const model = createModel(cfg, { seed: 2 });
    await w.loadModel('m', model);
    let ticks = 0, maxGap = 0, last = performance.now();
    const iv = setInterval(() => { const now = performance.now(); maxGap = Math.max(maxGap, now - last); last = now; ticks++; }, 5);
    const steps: number[] = [];
    const job = w.train('m', recs, { lr: 3e-3, batchSize: 4, epochs: 3, seed: 1 }, (p) => steps.push(p.step), 'm-ft');
    const r = await job.result;
    clearInterval(iv);
    assert.equal(r.steps, 12);
    assert.deepEqual(steps, [...Array(12).keys()].map((i) => i + 1));
    assert.ok(r.losses.at(-1)! < r.losses[0]);
    assert.ok(r.weights && r.weights.size === model.weights.size);
    // on the main thread the timer could fire only between steps (about one tick per step)
    assert.ok(ticks >= 3 * r.steps && maxGap < 1000, `main loop: ${ticks} ticks, longest gap ${maxGap.toFixed(0)} ms`);
    // the base in the worker is untouched; generation matches an in-process generator on the returned weights
    const ft = { config: model.config, weights: r.weights! };
    const local = await new Generator(ft).generate([[256, 10, 11]], { maxTokens: 8, eosTokenId: [] });
    const streamed: number[] = [];
    const remote = await w.generate('m-ft', [[256, 10, 11]], { maxTokens: 8, eosTokenId: [], tokenizer: tok, onToken: (row, t) => { assert.equal(row, 0); streamed.push(t); } });
    assert.deepEqual(remote[0].tokens, local[0].tokens);
    assert.deepEqual(streamed, local[0].tokens);
    assert.equal(remote[0].text, tok.decode(local[0].tokens));
    // cancel
    const long = w.train('m', recs, { lr: 1e-3, batchSize: 2, maxSteps: 500, seed: 1, lora: { rank: 2, alpha: 4, targetModules: ['q_proj'] } }, (p) => { if (p.step === 3) long.cancel(); });
    const lr = await long.result;
    assert.ok(lr.aborted && lr.steps < 500 && lr.adapter);
    const sc = await w.scoreCandidates('m', [[256, 1]], [[2], [3]], lr.adapter);
    assert.equal(sc[0].length, 2);
  } finally { await w.close(); }
});
