// Bring-your-own checkpoints: small random Hugging Face folders in each supported layout (llama incl. llama3 rope
// scaling, qwen2, qwen3), written with reference logits by scripts/layout-fixtures.py (plain-torch forward,
// float64, run once; the outputs are committed). These tests load the folders and compare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Generator, countParams, normalizeLlamaConfig, ropeInvFreq, EngineIoError } from '../../src/engine/index.ts';
import { FIXTURES, LAYOUTS, load, maxDiff, reference } from './layout-util.ts';
import { InputError, isBadInput } from '../../src/core/index.ts';

const TOL = 1e-4; // f32 engine vs float64 reference, logits up to about 30 (measured 1e-6 to 1e-5)

for (const name of LAYOUTS) {
  test(`${name}: the HF folder loads and its logits match the torch reference`, async () => {
    const m = load(name);
    const ref = reference(name);
    const gen = new Generator({ config: m.config, weights: m.weights });
    const d = maxDiff(await gen.logits(ref.ids), ref);
    console.log(`# ${name}: max |logit diff| vs torch ${d.toExponential(2)}`);
    assert.ok(d < TOL, `${name}: max |logit diff| ${d}`);
    // the fused decode path (q/k/v rows and biases concatenated) agrees too
    const fused = new Generator({ config: m.config, weights: m.weights }, { fuseProjections: true });
    assert.ok(maxDiff(await fused.logits(ref.ids), ref) < TOL);
  });
}

test('layout specifics are read from the folders: biases, q/k norms, head_dim, rope scaling, shards, BF16', () => {
  const q2 = load('qwen2');
  assert.equal(q2.config.model_type, 'qwen2');
  assert.deepEqual(q2.weights.get('model.layers.0.self_attn.k_proj.bias')!.shape, [16]);
  assert.ok(!q2.weights.has('model.layers.0.self_attn.o_proj.bias'));
  assert.equal(q2.dtypes.get('model.layers.1.self_attn.q_proj.bias'), 'BF16');
  const q3 = load('qwen3');
  assert.equal(q3.config.head_dim, 16);
  assert.deepEqual(q3.weights.get('model.layers.1.self_attn.q_norm.weight')!.shape, [16]);
  assert.deepEqual(q3.weights.get('model.layers.0.self_attn.q_proj.weight')!.shape, [64, 32]);
  const l3 = load('llama3');
  assert.equal((l3.config.rope_scaling as { rope_type: string }).rope_type, 'llama3');
  assert.ok(l3.weights.has('lm_head.weight'));
  // the llama3 scaling matters on these positions: without it the logits move well beyond the tolerance
  const inv = ropeInvFreq(l3.config),
    plain = ropeInvFreq({ ...l3.config, rope_scaling: null });
  // wavelengths: 6.3 (between 16/4 and 16: smoothed), then > 16 (divided by the factor 8)
  assert.ok(inv[0] < plain[0] && inv[0] > plain[0] / 8);
  for (let i = 1; i < inv.length; i++) assert.ok(Math.abs(inv[i] - plain[i] / 8) < 1e-15 * plain[i]);
});

test('llama3 rope scaling changes the logits (the reference is sensitive to it)', async () => {
  const m = load('llama3');
  const ref = reference('llama3');
  const gen = new Generator({ config: { ...m.config, rope_scaling: null }, weights: m.weights });
  assert.ok(maxDiff(await gen.logits(ref.ids), ref) > 50 * TOL);
});

test('an unsupported model_type is a one-line InputError naming it and the supported ones', () => {
  const cfg = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'qwen3', 'config.json'), 'utf8'));
  for (const mt of ['gemma3_text', 'mistral']) {
    assert.throws(
      () => normalizeLlamaConfig({ ...cfg, model_type: mt }, 'x/config.json'),
      (e: unknown) =>
        e instanceof EngineIoError &&
        e instanceof InputError &&
        isBadInput(e) &&
        !e.message.includes('\n') &&
        e.message === `x/config.json: model_type "${mt}" is not supported (supported: llama, qwen2, qwen3)`,
    );
  }
  assert.throws(() => normalizeLlamaConfig({ ...cfg, use_sliding_window: true }), /sliding-window/);
  assert.throws(() => normalizeLlamaConfig({ ...cfg, attention_bias: true }), /attention_bias/);
  assert.throws(() => normalizeLlamaConfig({ ...cfg, rope_scaling: { rope_type: 'yarn', factor: 4 } }), /rope_scaling.*yarn/);
  assert.throws(() => normalizeLlamaConfig({ ...cfg, architectures: ['LlamaForCausalLM'] }), /Qwen3ForCausalLM/);
});

test('published configs (SmolLM2-135M, Llama-3.2-1B, Qwen2.5-0.5B, Qwen3-0.6B) normalise to their published parameter counts', () => {
  const real: Record<string, [Record<string, unknown>, number]> = {
    'SmolLM2-135M': [
      {
        model_type: 'llama',
        hidden_size: 576,
        intermediate_size: 1536,
        num_hidden_layers: 30,
        num_attention_heads: 9,
        num_key_value_heads: 3,
        vocab_size: 49152,
        tie_word_embeddings: true,
        rope_theta: 100000,
      },
      134_515_008,
    ],
    'Llama-3.2-1B': [
      {
        architectures: ['LlamaForCausalLM'],
        model_type: 'llama',
        hidden_size: 2048,
        intermediate_size: 8192,
        num_hidden_layers: 16,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        head_dim: 64,
        vocab_size: 128256,
        tie_word_embeddings: true,
        rope_theta: 500000,
        rope_scaling: {
          factor: 32.0,
          high_freq_factor: 4.0,
          low_freq_factor: 1.0,
          original_max_position_embeddings: 8192,
          rope_type: 'llama3',
        },
      },
      1_235_814_400,
    ],
    'Qwen2.5-0.5B': [
      {
        architectures: ['Qwen2ForCausalLM'],
        model_type: 'qwen2',
        hidden_size: 896,
        intermediate_size: 4864,
        num_hidden_layers: 24,
        num_attention_heads: 14,
        num_key_value_heads: 2,
        vocab_size: 151936,
        tie_word_embeddings: true,
        use_sliding_window: false,
        sliding_window: 32768,
      },
      494_032_768,
    ],
    'Qwen3-0.6B': [
      {
        architectures: ['Qwen3ForCausalLM'],
        model_type: 'qwen3',
        hidden_size: 1024,
        intermediate_size: 3072,
        num_hidden_layers: 28,
        num_attention_heads: 16,
        num_key_value_heads: 8,
        head_dim: 128,
        vocab_size: 151936,
        tie_word_embeddings: true,
        attention_bias: false,
        use_sliding_window: false,
      },
      596_049_920,
    ],
  };
  for (const [name, [raw, n]] of Object.entries(real)) assert.equal(countParams(normalizeLlamaConfig(raw)), n, name);
  // a transformers-5 config keeps rope settings in rope_parameters
  const t5 = normalizeLlamaConfig({
    ...real['Llama-3.2-1B'][0],
    rope_theta: undefined,
    rope_scaling: undefined,
    rope_parameters: { rope_theta: 500000, rope_type: 'llama3', factor: 32 },
  });
  assert.equal(t5.rope_theta, 500000);
  assert.equal((t5.rope_scaling as { rope_type: string }).rope_type, 'llama3');
});
