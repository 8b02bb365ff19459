import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFineTuneBackend } from '../../src/finetune/index.ts';
import { openLocalModel } from '../../src/models/local.ts';
import { loadHfModel } from '../../src/engine/index.ts';
import { makeTinyModel, toyRecords, TINY_WORDS } from './tiny.ts';

test('local backend: LoRA in a worker lowers validation loss; output folder + adapter load as local:<path> and answer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-ft-'));
  try {
    const base = makeTinyModel(join(dir, 'base'));
    const backend = new LocalFineTuneBackend();
    const all = toyRecords();
    const train = [...all, ...all, ...all];
    const validation = toyRecords(TINY_WORDS.filter((_, i) => i % 4 === 0));
    const opts = {
      baseModel: `local:${base}`,
      method: 'lora' as const,
      epochs: 6,
      learningRate: 3e-2,
      batchSize: 8,
      rank: 4,
      seed: 1,
      outputDir: join(dir, 'out'),
      validation,
    };
    assert.deepEqual(
      (await backend.validate(train, opts)).filter((p) => p.level === 'error'),
      [],
    );
    const est = await backend.estimate(train, opts);
    assert.equal(est.steps, 6 * 6);
    assert.ok(est.tokens > 0 && est.seconds > 0 && Number.isFinite(est.seconds), JSON.stringify(est));

    // the event loop keeps turning while the worker trains
    let ticks = 0;
    const iv = setInterval(() => ticks++, 20);
    const job = await backend.start(train, opts);
    const st = await backend.wait(job);
    clearInterval(iv);
    assert.equal(st.status, 'succeeded', st.error);
    assert.ok(ticks > 5, `event loop ticked ${ticks} times during training`);
    const summary = backend.summary(job)!;
    assert.ok(summary.initialValLoss! > summary.bestValLoss! + 1, `validation loss ${summary.initialValLoss} -> ${summary.bestValLoss}`);
    assert.ok(st.events.some((e) => e.data?.valid_loss !== undefined));
    assert.ok(st.metrics.step! > 0 && st.metrics.tokensPerSec! > 0);

    const id = await backend.result(job);
    assert.equal(id, `local:${join(dir, 'out')}`);
    assert.ok(existsSync(join(dir, 'out', 'adapter', 'adapter_config.json')));
    assert.ok(existsSync(join(dir, 'out', 'training.json')));
    const b = loadHfModel(base),
      f = loadHfModel(join(dir, 'out'));
    const q = 'model.layers.0.self_attn.q_proj.weight';
    assert.notDeepEqual(Array.from(f.weights.get(q)!.data.slice(0, 16)), Array.from(b.weights.get(q)!.data.slice(0, 16)));
    const m = openLocalModel(id);
    const sys = { role: 'system' as const, content: 'Answer with one of: fruit, tool.' };
    const r1 = await m.complete({ messages: [sys, { role: 'user', content: 'Item: apple' }], maxTokens: 4 });
    const r2 = await m.complete({ messages: [sys, { role: 'user', content: 'Item: wrench' }], maxTokens: 4 });
    // a tiny random model learns the answer format fast (the word → class lookup it does not reliably learn in this budget)
    assert.ok(['fruit', 'tool'].includes(r1.text.trim()), r1.text);
    assert.ok(['fruit', 'tool'].includes(r2.text.trim()), r2.text);
    assert.ok(r1.usage.input > 5 && r1.usage.output >= 1);
    const [sf, st2, other] = await m.scoreCandidates({ messages: [sys, { role: 'user', content: 'Item: saw' }] }, [
      'fruit',
      'tool',
      'the lemon is here',
    ]);
    assert.ok(Math.max(sf, st2) > other + 3, `${sf} ${st2} ${other}`);
    // the adapter folder alone is a model too (base + adapter)
    const a = openLocalModel(`local:${join(dir, 'out', 'adapter')}`);
    assert.equal((await a.complete({ messages: [sys, { role: 'user', content: 'Item: apple' }], maxTokens: 4 })).text, r1.text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('local backend: cancel stops a running job; bad base model is a validation error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-ft-'));
  try {
    const base = makeTinyModel(join(dir, 'base'));
    const backend = new LocalFineTuneBackend();
    const recs = toyRecords();
    const job = await backend.start(recs, {
      baseModel: base,
      method: 'full',
      epochs: 500,
      learningRate: 1e-3,
      batchSize: 4,
      seed: 1,
      outputDir: join(dir, 'out'),
    });
    await new Promise((r) => setTimeout(r, 300));
    await backend.cancel(job);
    const st = await backend.poll(job);
    assert.equal(st.status, 'cancelled');
    assert.ok(!existsSync(join(dir, 'out', 'model.safetensors')));
    const probs = await backend.validate(recs, {
      baseModel: join(dir, 'nope'),
      method: 'lora',
      epochs: 1,
      learningRate: 1e-3,
      seed: 1,
      outputDir: join(dir, 'x'),
    });
    assert.ok(probs.some((p) => p.level === 'error' && /config\.json/.test(p.message)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
