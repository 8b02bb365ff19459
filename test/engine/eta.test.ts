import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtaEstimator, createModel, train, ByteTokenizer, type TrainProgress } from '../../src/engine/index.ts';
import { Rng } from '../../src/core/index.ts';

test('ETA: within 25% of the real time left at every step after the first 10%, despite compiles and validations (synthetic clock)', () => {
  for (const seed of [1, 2, 3]) {
    const rng = new Rng(seed);
    const total = 225,
      evalEvery = 19,
      shapes = 8;
    // a step's time depends on its padded length (bucketed batches); the first step of each shape also compiles
    const len = Array.from({ length: total }, () => rng.int(shapes));
    const seen = new Set<number>();
    const stepMs = len.map((l) => {
      const t = 120 + 40 * l + rng.normal() * 15;
      const c = seen.has(l) ? 0 : 1800;
      seen.add(l);
      return t + c;
    });
    const valAt = (k: number) => k % evalEvery === 0 || k === total;
    const valMs = (i: number) => (i === 0 ? 2500 : 700 + rng.normal() * 30);
    const timeline: number[] = [];
    let vi = 0;
    for (let k = 1; k <= total; k++) timeline.push(stepMs[k - 1] + (valAt(k) ? valMs(vi++) : 0));
    const eta = new EtaEstimator(6);
    vi = 0;
    let worst = 0;
    for (let k = 1; k <= total; k++) {
      eta.observeStep(stepMs[k - 1]);
      if (valAt(k)) eta.observeValidation(timeline[k - 1] - stepMs[k - 1]);
      let vLeft = 0;
      for (let j = k + 1; j <= total; j++) if (valAt(j)) vLeft++;
      const actual = timeline.slice(k).reduce((a, b) => a + b, 0);
      if (k >= total * 0.1 && actual > 5000) worst = Math.max(worst, Math.abs(eta.eta(total - k, vLeft) - actual) / actual);
    }
    assert.ok(worst < 0.25, `seed ${seed}: worst ETA error ${(worst * 100).toFixed(1)}%`);
  }
});

test('training progress: one typed event per step with loss, validation loss, ETA and validations left', async () => {
  const tok = new ByteTokenizer();
  const m = createModel(
    {
      vocab_size: tok.vocabSize,
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      max_position_embeddings: 64,
      tie_word_embeddings: true,
    },
    { seed: 1 },
  );
  const recs = Array.from({ length: 24 }, (_, i) => ({ ids: tok.encode(`record ${i} says hello`) }));
  const events: TrainProgress[] = [];
  await train(m, recs, { lr: 1e-3, batchSize: 4, epochs: 2, seed: 1, valRecords: recs.slice(0, 4), evalEvery: 4 }, (p) => events.push(p));
  assert.equal(events.length, 12);
  assert.deepEqual(
    events.map((e) => e.step),
    [...Array(12).keys()].map((i) => i + 1),
  );
  assert.ok(events.every((e) => e.totalSteps === 12 && Number.isFinite(e.loss) && Number.isFinite(e.etaMs) && e.etaMs >= 0));
  assert.deepEqual(
    events.map((e) => e.validationsLeft),
    [3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0],
  );
  assert.ok(events[3].valLoss !== undefined && events[4].valLoss === undefined && events[4].lastValLoss === events[3].valLoss);
  assert.equal(events.at(-1)!.etaMs, 0);
});
