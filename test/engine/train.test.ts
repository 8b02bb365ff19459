import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  createModel,
  train,
  Trainer,
  Generator,
  ByteTokenizer,
  type LlamaModel,
  type TrainExample,
  type Weights,
} from '../../src/engine/index.ts';

const tok = new ByteTokenizer();
const BOS = tok.tokenId('<|bos|>')!,
  EOS = tok.tokenId('<|eos|>')!;
const cfg = {
  vocab_size: tok.vocabSize,
  hidden_size: 64,
  intermediate_size: 160,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 128,
  tie_word_embeddings: true,
  eos_token_id: EOS,
};
const corpus = `It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the other way. There were a king with a large jaw and a queen with a plain face, on the throne of England; there were a king with a large jaw and a queen with a fair face, on the throne of France.`;
const windows = (T: number, stride: number): TrainExample[] => {
  const out: TrainExample[] = [];
  for (let i = 0; i + T < corpus.length; i += stride) out.push({ ids: tok.encode(corpus.slice(i, i + T)) });
  return out;
};
const hashWeights = (w: Weights) => {
  const h = createHash('sha256');
  for (const [k, t] of [...w].sort(([a], [b]) => a.localeCompare(b))) {
    h.update(k);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
};
const cloneModel = (m: LlamaModel): LlamaModel => ({
  config: m.config,
  weights: new Map([...m.weights].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }])),
});

let pretrained: LlamaModel | undefined;

test('a tiny Llama trained from scratch on a small corpus shows a clear loss drop', async () => {
  const m = createModel(cfg, { seed: 1 });
  const recs = windows(64, 6);
  const progress: number[] = [];
  const r = await train(
    m,
    recs,
    { lr: 3e-3, batchSize: 8, epochs: 22, warmupSteps: 5, seed: 1, valRecords: windows(64, 37).slice(0, 8) },
    (p) => progress.push(p.step),
  );
  assert.equal(progress.length, r.steps);
  assert.ok(r.steps >= 100);
  const first = r.losses[0],
    last = r.losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
  assert.ok(first > 5, `initial loss ${first} should be near ln(259)`);
  assert.ok(last < 0.45 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.ok(r.valLosses.length >= 9 && r.valLosses.at(-1)!.loss < r.valLosses[0].loss);
  pretrained = m;
});

test('LoRA fine-tune on a toy mapping reaches >= 95% exact match; base weights stay bit-identical', async () => {
  assert.ok(pretrained, 'needs the pretrained model of the previous test');
  const base = pretrained!;
  const before = hashWeights(base.weights);
  const labels = ['blue', 'pink', 'gold', 'gray']; // equal lengths: summed log-probs compare fairly
  let s = 7;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const words = new Set<string>();
  while (words.size < 32) {
    let w = '';
    const n = 3 + Math.floor(rnd() * 3);
    for (let k = 0; k < n; k++) w += String.fromCharCode(97 + Math.floor(rnd() * 26));
    words.add(w);
  }
  const pairs = [...words].map((w) => [w, labels[Math.floor(rnd() * 4)]]);
  const ex = pairs.map(([a, b]) => {
    const p = [BOS, ...tok.encode(`${a}=`)],
      c = [...tok.encode(b), EOS];
    return { ids: [...p, ...c], mask: [...p.map(() => 0), ...c.map(() => 1)] };
  });
  const r = await train(base, ex, {
    lr: 1e-2,
    batchSize: 8,
    epochs: 50,
    seed: 2,
    warmupSteps: 10,
    lora: { rank: 8, alpha: 16, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
  });
  assert.ok(r.adapter && r.adapter.weights.size === 14);
  assert.equal(hashWeights(base.weights), before, 'base weights changed');
  const gen = new Generator(base, { adapter: r.adapter });
  const outs = await gen.generate(
    pairs.map(([a]) => [BOS, ...tok.encode(`${a}=`)]),
    { maxTokens: 8, tokenizer: tok, eosTokenId: EOS },
  );
  const exact = outs.filter((o, i) => o.text === pairs[i][1] && o.finishReason === 'eos').length / pairs.length;
  assert.ok(exact >= 0.95, `exact match ${exact} (LoRA loss ${r.losses[0].toFixed(3)} -> ${r.losses.at(-1)!.toFixed(3)})`);
  // classification by candidate scoring agrees
  const scores = await gen.scoreCandidates(
    pairs.map(([a]) => [BOS, ...tok.encode(`${a}=`)]),
    labels.map((l) => [...tok.encode(l), EOS]),
  );
  const acc =
    scores.filter((sc, i) => labels[sc.reduce((bi, x, j) => (x.logprob > sc[bi].logprob ? j : bi), 0)] === pairs[i][1]).length /
    pairs.length;
  assert.ok(acc >= 0.95, `scoring accuracy ${acc}`);
  assert.equal(hashWeights(base.weights), before, 'base weights changed by inference');
});

async function resumeCase(lora: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-ck-'));
  try {
    const recs = windows(40, 9);
    const val = windows(40, 53).slice(0, 4);
    const opts = {
      lr: 5e-3,
      batchSize: 4,
      gradAccum: 2,
      maxSteps: 10,
      warmupSteps: 2,
      seed: 3,
      valRecords: val,
      evalEvery: 3,
      checkpointEvery: 3,
      lora: lora ? { rank: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'v_proj', 'down_proj'] } : undefined,
    };
    const full = await train(createModel(cfg, { seed: 4 }), recs, opts);
    const ac = new AbortController();
    const first = await train(createModel(cfg, { seed: 4 }), recs, { ...opts, checkpointDir: dir, signal: ac.signal }, (p) => {
      if (p.step === 7) ac.abort();
    });
    assert.ok(first.aborted && first.steps === 7);
    assert.ok(existsSync(join(dir, 'checkpoint.safetensors')));
    assert.deepEqual(readdirSync(dir), ['checkpoint.safetensors'], 'no temp files left');
    const resumedModel = createModel(cfg, { seed: 4 });
    const resumed = await train(resumedModel, recs, { ...opts, checkpointDir: dir });
    assert.equal(resumed.steps, 10);
    assert.deepEqual(resumed.losses, full.losses, 'resumed losses differ');
    assert.deepEqual(resumed.valLosses, full.valLosses);
    if (lora)
      assert.deepEqual(
        [...resumed.adapter!.weights.values()].map((x) => [...x.B.data]),
        [...full.adapter!.weights.values()].map((x) => [...x.B.data]),
      );
    else {
      assert.equal(hashWeights(resumedModel.weights), hashWeights(full.model.weights));
      await assert.rejects(
        train(createModel(cfg, { seed: 4 }), recs.slice(1), { ...opts, checkpointDir: dir }),
        /different training records/,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('resumed training gives the same losses and weights as uninterrupted (full fine-tuning)', () => resumeCase(false));
test('resumed training gives the same losses and adapter as uninterrupted (LoRA with dropout)', () => resumeCase(true));

test('gradient accumulation over two micro-batches equals one batch of both', async () => {
  const recs = windows(32, 11).slice(0, 8);
  const a = cloneModel(createModel(cfg, { seed: 5 })),
    b = cloneModel(a);
  const ta = new Trainer(a, { lr: 1e-3, seed: 1 }),
    tb = new Trainer(b, { lr: 1e-3, seed: 1 });
  const ra = await ta.step(recs);
  const rb = await tb.step([recs.slice(0, 4), recs.slice(4)]);
  assert.ok(Math.abs(ra.loss - rb.loss) < 1e-5, `${ra.loss} vs ${rb.loss}`);
  assert.ok(Math.abs(ra.gradNorm - rb.gradNorm) / ra.gradNorm < 1e-4);
  let maxd = 0;
  for (const [k, t] of a.weights) {
    const u = b.weights.get(k)!.data;
    for (let i = 0; i < t.data.length; i++) maxd = Math.max(maxd, Math.abs(t.data[i] - u[i]));
  }
  assert.ok(maxd < 1e-5, `max weight difference ${maxd}`);
});

test('early stopping stops when validation loss stops improving and restores the best weights', async () => {
  const m = createModel(cfg, { seed: 6 });
  // validation on unrelated text: training on a single repeated window overfits quickly
  const trainRecs = Array.from({ length: 8 }, () => ({ ids: tok.encode(corpus.slice(0, 40)) }));
  const val = [{ ids: tok.encode('zq xv jk wp zq xv jk wp zq xv jk wp') }];
  const r = await train(m, trainRecs, { lr: 2e-2, batchSize: 8, maxSteps: 200, evalEvery: 2, patience: 3, seed: 1, valRecords: val });
  assert.ok(r.stoppedEarly, 'did not stop early');
  assert.ok(r.steps < 200);
  const t = new Trainer(m, {});
  const vl = await t.evalLoss(val);
  assert.ok(Math.abs(vl - r.bestValLoss!) < 1e-4, `restored weights give ${vl}, best was ${r.bestValLoss}`);
});
