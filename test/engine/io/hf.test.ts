import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  applyChatTemplate,
  byteTokenizer,
  EngineIoError,
  loadHfModel,
  roundTo,
  saveHfModel,
  trainBpe,
  writeSafetensors,
  readSafetensorsHeader,
} from '../../../src/engine/io/index.ts';
import type { Weights } from '../../../src/engine/types.ts';
import { randomWeights, sameBits, spTokenizerJson, tinyConfig, tmpDir } from './util.ts';

const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
const tok = trainBpe('the cat sat on the mat. the dog ate the cat food. '.repeat(20), { vocabSize: 300, specialTokens: SPECIALS });

function assertSameWeights(a: Weights, b: Weights, dtype: 'F32' | 'F16' | 'BF16' = 'F32') {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) {
    assert.deepEqual(b.get(k)!.shape, t.shape, k);
    assert.ok(sameBits(b.get(k)!.data, dtype === 'F32' ? t.data : roundTo(dtype, t.data)), `${k} (${dtype})`);
  }
}

test('HF folder save -> load round trip is bit-exact (f32), tokenizer and configs kept', () => {
  const dir = tmpDir('hf');
  const config = tinyConfig({ bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 });
  const weights = randomWeights(config, 3);
  saveHfModel(dir, {
    config,
    weights,
    tokenizer: tok,
    tokenizerConfig: { bos_token: '<|im_start|>', eos_token: '<|im_end|>', pad_token: '<|endoftext|>', chat_template: "{{ 'x' }}" },
  });
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    'config.json',
    'generation_config.json',
    'model.safetensors',
    'special_tokens_map.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  const m = loadHfModel(dir);
  assertSameWeights(weights, m.weights);
  assert.equal(m.config.hidden_size, 32);
  assert.equal(m.config.head_dim, 8);
  assert.equal(m.config.torch_dtype, 'float32');
  assert.deepEqual(m.generationConfig, { bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 });
  assert.equal(m.tokenizerConfig.eos_token, '<|im_end|>');
  assert.equal(applyChatTemplate([], { tokenizerConfig: m.tokenizerConfig }), 'x');
  assert.deepEqual(m.tokenizer!.toJSON(), tok.toJSON());
  assert.deepEqual(m.tokenizer!.encode('the cat <|im_end|>'), tok.encode('the cat <|im_end|>'));
  // save what was loaded: identical bytes
  const dir2 = tmpDir('hf2');
  saveHfModel(dir2, m);
  for (const f of ['model.safetensors', 'config.json', 'tokenizer.json'])
    assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(dir2, f))), f);
});

test('HF folder in f16 / bf16, and sharded with an index', () => {
  const config = tinyConfig({ tie_word_embeddings: false });
  const weights = randomWeights(config, 4);
  for (const dtype of ['F16', 'BF16'] as const) {
    const dir = tmpDir(dtype);
    saveHfModel(dir, { config, weights }, { dtype });
    const m = loadHfModel(dir);
    assert.equal(m.config.torch_dtype, dtype === 'F16' ? 'float16' : 'bfloat16');
    assertSameWeights(weights, m.weights, dtype);
    assert.equal(m.dtypes.get('lm_head.weight'), dtype);
  }
  const dir = tmpDir('shard');
  saveHfModel(dir, { config, weights }, { maxShardBytes: 40_000 });
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  assert.ok(files.length > 1, files.join());
  assert.ok(files.every((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)));
  const idx = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
  assert.equal(Object.keys(idx.weight_map).length, weights.size);
  assertSameWeights(weights, loadHfModel(dir).weights);
});

/** Write a folder the way a published checkpoint is laid out (file names, config fields, dtypes). */
function writePublished(
  dir: string,
  config: Record<string, unknown>,
  weights: Weights,
  dtype: 'BF16' | 'F16',
  extraTensors: Weights = new Map(),
) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeSafetensors(path.join(dir, 'model.safetensors'), new Map([...weights, ...extraTensors]), { dtype, metadata: { format: 'pt' } });
}

test('loads a SmolLM2-layout folder (tied embeddings, no lm_head, GQA, bf16, its config fields)', () => {
  const dir = tmpDir('smollm2');
  const config = {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 1,
    eos_token_id: 2,
    hidden_act: 'silu',
    hidden_size: 48,
    initializer_range: 0.041666666666666664,
    intermediate_size: 128,
    is_llama_config: true,
    max_position_embeddings: 8192,
    model_type: 'llama',
    num_attention_heads: 6,
    num_hidden_layers: 3,
    num_key_value_heads: 2,
    pad_token_id: 2,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_interleaved: false,
    rope_scaling: null,
    rope_theta: 100000,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    transformers_version: '4.42.3',
    use_cache: true,
    vocab_size: 300,
  };
  const weights = randomWeights(config as any, 5);
  assert.ok(!weights.has('lm_head.weight'));
  writePublished(dir, config, weights, 'BF16');
  fs.writeFileSync(
    path.join(dir, 'tokenizer.json'),
    JSON.stringify({
      ...(tok.toJSON() as object),
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Digits', individual_digits: true },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
        ],
      },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      add_prefix_space: false,
      bos_token: '<|im_start|>',
      eos_token: '<|im_end|>',
      pad_token: '<|im_end|>',
      unk_token: '<|endoftext|>',
      chat_template:
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
      clean_up_tokenization_spaces: false,
      model_max_length: 8192,
      tokenizer_class: 'GPT2Tokenizer',
      vocab_size: 300,
      added_tokens_decoder: {
        0: { content: '<|endoftext|>', lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
      },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'generation_config.json'),
    JSON.stringify({ _from_model_config: true, bos_token_id: 1, eos_token_id: 2, pad_token_id: 2, transformers_version: '4.42.3' }),
  );
  const m = loadHfModel(dir);
  assert.equal(m.config.num_key_value_heads, 2);
  assert.equal(m.config.head_dim, 8);
  assert.equal(m.config.tie_word_embeddings, true);
  assert.equal(m.config.rope_theta, 100000);
  assertSameWeights(weights, m.weights, 'BF16');
  assert.equal(m.dtypes.get('model.embed_tokens.weight'), 'BF16');
  assert.deepEqual(
    m.tokenizer!.encode('42'),
    [...'42'].map((d) => tok.tokenId(d)),
  );
  assert.equal(m.generationConfig!.eos_token_id, 2);
  assert.equal(
    applyChatTemplate([{ role: 'user', content: 'x' }], { tokenizerConfig: m.tokenizerConfig, addGenerationPrompt: true }),
    '<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n',
  );
});

test('loads a TinyLlama-layout folder (separate lm_head, GQA 8:2, bf16, AddedToken objects, old inv_freq buffers)', () => {
  const dir = tmpDir('tinyllama');
  const config = {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    bos_token_id: 1,
    eos_token_id: 2,
    hidden_act: 'silu',
    hidden_size: 64,
    initializer_range: 0.02,
    intermediate_size: 176,
    max_position_embeddings: 2048,
    model_type: 'llama',
    num_attention_heads: 8,
    num_hidden_layers: 2,
    num_key_value_heads: 2,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_scaling: null,
    rope_theta: 10000.0,
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
    transformers_version: '4.35.0',
    use_cache: true,
    vocab_size: 352,
  };
  const weights = randomWeights(config as any, 6);
  assert.ok(weights.has('lm_head.weight'));
  const invFreq: Weights = new Map([
    ['model.layers.0.self_attn.rotary_emb.inv_freq', { shape: [4], data: Float32Array.of(1, 0.1, 0.01, 0.001) }],
  ]);
  writePublished(dir, config, weights, 'BF16', invFreq);
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      add_bos_token: true,
      add_eos_token: false,
      bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
      eos_token: { __type: 'AddedToken', content: '</s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
      pad_token: null,
      unk_token: '<unk>',
      legacy: false,
      model_max_length: 2048,
      tokenizer_class: 'LlamaTokenizer',
    }),
  );
  const spJson = spTokenizerJson(tok);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(spJson));
  fs.writeFileSync(
    path.join(dir, 'generation_config.json'),
    JSON.stringify({ bos_token_id: 1, eos_token_id: 2, max_length: 2048, pad_token_id: 0, transformers_version: '4.35.0' }),
  );
  const h = readSafetensorsHeader(path.join(dir, 'model.safetensors'));
  assert.equal(h.tensors.get('lm_head.weight')!.dtype, 'BF16');
  const m = loadHfModel(dir);
  assert.equal(m.tokenizer!.byteLevel, false);
  assert.equal(m.tokenizer!.encode('the cat')[0], 1); // <s> from the TemplateProcessing post-processor
  assert.equal(m.tokenizer!.decode(m.tokenizer!.encode('the cat'), { skipSpecialTokens: true }), 'the cat');
  assert.equal(m.generationConfig!.max_length, 2048);
  assert.equal(m.tokenizerConfig.bos_token, '<s>');
  assert.equal(m.tokenizerConfig.eos_token, '</s>');
  assert.deepEqual(m.ignored, ['model.layers.0.self_attn.rotary_emb.inv_freq']);
  assert.deepEqual(m.weights.get('model.layers.1.self_attn.k_proj.weight')!.shape, [16, 64]);
  assertSameWeights(weights, m.weights, 'BF16');
});

test('loader errors name the file and the problem', () => {
  const config = tinyConfig();
  const weights = randomWeights(config, 7);
  const dir = tmpDir('bad');
  saveHfModel(dir, { config, weights });
  const cfgFile = path.join(dir, 'config.json');
  const good = fs.readFileSync(cfgFile, 'utf8');
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(good), num_key_value_heads: 3 }));
  assert.throws(() => loadHfModel(dir), /num_key_value_heads/);
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(good), model_type: 'gpt2' }));
  assert.throws(
    () => loadHfModel(dir),
    (e: unknown) => e instanceof EngineIoError && /model_type "gpt2"/.test(e.message) && e.message.includes(cfgFile),
  );
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(good), intermediate_size: 65 }));
  assert.throws(() => loadHfModel(dir), /mlp\.gate_proj\.weight has shape \[64,32\], config says \[65,32\]/);
  fs.writeFileSync(cfgFile, good);
  const w2 = new Map(weights);
  w2.delete('model.norm.weight');
  writeSafetensors(path.join(dir, 'model.safetensors'), w2);
  assert.throws(() => loadHfModel(dir), /model\.norm\.weight is missing/);
  fs.writeFileSync(
    path.join(dir, 'tokenizer.json'),
    JSON.stringify(byteTokenizer(Array.from({ length: 50 }, (_, i) => `<|s${i}|>`)).toJSON()),
  );
  writeSafetensors(path.join(dir, 'model.safetensors'), weights);
  assert.throws(() => loadHfModel(dir), /has 306 tokens but config\.json vocab_size is 300/);
  fs.rmSync(path.join(dir, 'tokenizer.json'));
  fs.rmSync(path.join(dir, 'model.safetensors'));
  assert.throws(() => loadHfModel(dir), /no model\.safetensors/);
});
