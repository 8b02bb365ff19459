// End to end with a brought checkpoint: `local:<folder>` answers from each fixture layout, a local LoRA fine-tune
// job trains on the qwen3 folder (chat template, loss on assistant turns) and writes a merged qwen3 folder that
// `local:` loads again; an unsupported model_type reaches the user as a bad-input error naming the supported ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openLocalModel, closeLocalModel } from '../../src/models/index.ts';
import { runTrainJob, type TrainJobEvent } from '../../src/finetune/train-job.ts';
import { loadHfModel } from '../../src/engine/index.ts';
import { isBadInput } from '../../src/core/index.ts';
import { FIXTURES, LAYOUTS } from './layout-util.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-layout-local-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

test('local:<folder> answers from every layout (chat template, tokenizer, EOS from the folder)', async () => {
  for (const name of LAYOUTS) {
    const m = openLocalModel(`local:${path.join(FIXTURES, name)}`);
    const r = await m.complete({ messages: [{ role: 'user', content: 'the cat sat on the' }], maxTokens: 6, temperature: 0 });
    assert.equal(typeof r.text, 'string');
    assert.ok(r.usage.input > 5 && r.usage.output >= 1 && r.usage.output <= 6, `${name}: ${JSON.stringify(r.usage)}`);
    closeLocalModel(path.join(FIXTURES, name));
  }
});

test('a local LoRA fine-tune job on the qwen3 folder writes a merged qwen3 folder that local: loads', async () => {
  const out = path.join(tmp, 'ft');
  const records = Array.from({ length: 12 }, (_, i) => ({
    messages: [
      { role: 'user' as const, content: `item ${i % 3}` },
      { role: 'assistant' as const, content: ['cat', 'dog', 'sea'][i % 3] },
    ],
  }));
  const events: TrainJobEvent[] = [];
  const summary = await runTrainJob(
    {
      baseDir: path.join(FIXTURES, 'qwen3'),
      baseId: 'local:qwen3-fixture',
      method: 'lora',
      epochs: 4,
      learningRate: 1e-2,
      batchSize: 6,
      rank: 4,
      alpha: 8,
      dropout: 0,
      targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
      seed: 1,
      outputDir: out,
      records,
    },
    (e) => events.push(e),
  );
  assert.ok(summary, JSON.stringify(events.filter((e) => e.type === 'error')));
  const losses = events.filter((e): e is Extract<TrainJobEvent, { type: 'progress' }> => e.type === 'progress').map((e) => e.loss);
  assert.ok(losses.length >= 2 && losses[losses.length - 1] < losses[0], `losses ${losses}`);
  const merged = loadHfModel(out);
  assert.equal(merged.config.model_type, 'qwen3');
  assert.equal(merged.config.head_dim, 16);
  const base = loadHfModel(path.join(FIXTURES, 'qwen3'));
  assert.deepEqual(
    merged.weights.get('model.layers.0.self_attn.k_norm.weight')!.data,
    base.weights.get('model.layers.0.self_attn.k_norm.weight')!.data,
  );
  const m = openLocalModel(`local:${out}`);
  const r = await m.complete({ messages: [{ role: 'user', content: 'item 1' }], maxTokens: 4, temperature: 0 });
  assert.ok(r.usage.output >= 1);
  closeLocalModel(out);
});

test('local: on a folder with an unsupported model_type fails as bad input naming it and the supported types', async () => {
  const dir = path.join(tmp, 'gemma');
  fs.cpSync(path.join(FIXTURES, 'llama'), dir, { recursive: true });
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ ...cfg, model_type: 'gemma3_text', architectures: ['Gemma3ForCausalLM'] }),
  );
  const m = openLocalModel(`local:${dir}`);
  await assert.rejects(
    m.complete({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 }),
    (e: Error) =>
      isBadInput(e) &&
      /model_type "gemma3_text" is not supported \(supported: llama, qwen2, qwen3\)/.test(e.message) &&
      !e.message.includes('\n'),
  );
});
