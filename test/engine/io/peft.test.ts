import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  loadPeftAdapter,
  mergeLora,
  readSafetensors,
  savePeftAdapter,
  writeSafetensors,
  EngineIoError,
} from '../../../src/engine/io/index.ts';
import type { HostTensor, LoraAdapter } from '../../../src/engine/types.ts';
import { randomWeights, rng, sameBits, tinyConfig, tmpDir } from './util.ts';

const config = tinyConfig();
function randomAdapter(seed: number, rank = 4, mods = ['q_proj', 'v_proj']): LoraAdapter {
  const r = rng(seed);
  const t = (shape: number[]): HostTensor => ({ shape, data: Float32Array.from({ length: shape[0] * shape[1] }, () => (r() - 0.5) * 0.2) });
  const weights = new Map<string, { A: HostTensor; B: HostTensor }>();
  for (let l = 0; l < config.num_hidden_layers; l++) {
    for (const m of mods) {
      const out = m === 'q_proj' ? 32 : 16;
      weights.set(`model.layers.${l}.self_attn.${m}`, { A: t([rank, 32]), B: t([out, rank]) });
    }
  }
  return { rank, alpha: 8, dropout: 0.05, targetModules: mods, weights };
}

test('PEFT adapter save -> load round trip is bit-exact, with PEFT key names and config', () => {
  const dir = tmpDir('peft');
  const a = randomAdapter(1);
  savePeftAdapter(dir, a, { baseModelNameOrPath: 'HuggingFaceTB/SmolLM2-135M' });
  const st = readSafetensors(path.join(dir, 'adapter_model.safetensors'));
  assert.ok(st.tensors.has('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'));
  assert.ok(st.tensors.has('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight'));
  assert.equal(st.tensors.size, 8);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(cfg.peft_type, 'LORA');
  assert.equal(cfg.task_type, 'CAUSAL_LM');
  assert.equal(cfg.r, 4);
  assert.equal(cfg.lora_alpha, 8);
  assert.equal(cfg.lora_dropout, 0.05);
  assert.deepEqual(cfg.target_modules, ['q_proj', 'v_proj']);
  assert.equal(cfg.base_model_name_or_path, 'HuggingFaceTB/SmolLM2-135M');
  const { adapter } = loadPeftAdapter(dir);
  assert.equal(adapter.rank, 4);
  assert.equal(adapter.alpha, 8);
  assert.equal(adapter.dropout, 0.05);
  assert.deepEqual([...adapter.weights.keys()].sort(), [...a.weights.keys()].sort());
  for (const [k, { A, B }] of a.weights) {
    assert.ok(sameBits(adapter.weights.get(k)!.A.data, A.data));
    assert.ok(sameBits(adapter.weights.get(k)!.B.data, B.data));
    assert.deepEqual(adapter.weights.get(k)!.B.shape, B.shape);
  }
});

test('PEFT adapters as other tools write them: adapter-named keys, rsLoRA, errors', () => {
  const dir = tmpDir('peft2');
  const a = randomAdapter(
    2,
    2,
    ['o_proj'].map(() => 'q_proj'),
  );
  const tensors = new Map<string, HostTensor>();
  for (const [m, { A, B }] of a.weights) {
    tensors.set(`base_model.model.${m}.lora_A.default.weight`, A);
    tensors.set(`base_model.model.${m}.lora_B.default.weight`, B);
  }
  writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors, { dtype: 'BF16' });
  fs.writeFileSync(
    path.join(dir, 'adapter_config.json'),
    JSON.stringify({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 2,
      lora_alpha: 4,
      lora_dropout: 0,
      target_modules: ['q_proj'],
      use_rslora: true,
      bias: 'none',
    }),
  );
  const { adapter } = loadPeftAdapter(dir);
  assert.equal(adapter.weights.size, 2);
  assert.ok(Math.abs(adapter.alpha / adapter.rank - 4 / Math.sqrt(2)) < 1e-12); // rsLoRA scale kept
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, use_dora: true }));
  assert.throws(() => loadPeftAdapter(dir), /DoRA/);
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'IA3', r: 2, lora_alpha: 4 }));
  assert.throws(() => loadPeftAdapter(dir), EngineIoError);
});

test('mergeLora: W + (alpha/r) B A, pure, exact for a zero B', () => {
  const base = randomWeights(config, 3);
  const snapshot = new Map([...base].map(([k, v]) => [k, v.data.slice()]));
  const a = randomAdapter(4);
  const merged = mergeLora(base, a);
  for (const [k, v] of base) assert.ok(sameBits(v.data, snapshot.get(k)!), `base ${k} changed`);
  const s = a.alpha / a.rank;
  for (const [mod, { A, B }] of a.weights) {
    const W = base.get(`${mod}.weight`)!,
      M = merged.get(`${mod}.weight`)!;
    const [o, i] = W.shape;
    let maxErr = 0;
    for (let y = 0; y < o; y++)
      for (let x = 0; x < i; x++) {
        let acc = 0;
        for (let k = 0; k < a.rank; k++) acc += B.data[y * a.rank + k] * A.data[k * i + x];
        maxErr = Math.max(maxErr, Math.abs(M.data[y * i + x] - (W.data[y * i + x] + s * acc)));
      }
    assert.ok(maxErr < 1e-7, `${mod}: ${maxErr}`);
  }
  assert.equal(merged.get('model.layers.0.mlp.up_proj.weight'), base.get('model.layers.0.mlp.up_proj.weight'));
  const zero: LoraAdapter = {
    ...a,
    weights: new Map([...a.weights].map(([k, v]) => [k, { A: v.A, B: { shape: v.B.shape, data: new Float32Array(v.B.data.length) } }])),
  };
  const same = mergeLora(base, zero);
  for (const [k, v] of base) assert.ok(sameBits(same.get(k)!.data, v.data));
  assert.throws(
    () =>
      mergeLora(base, { ...a, weights: new Map([['model.layers.9.self_attn.q_proj', a.weights.get('model.layers.0.self_attn.q_proj')!]]) }),
    /no model\.layers\.9/,
  );
});
