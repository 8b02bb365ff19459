import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gguf } from '@huggingface/gguf';
import {
  exportGguf,
  exportLoraGguf,
  permuteQK,
  unpermuteQK,
  trainBpe,
  decodeF16,
  encodeF16,
  writeGguf,
  DEFAULT_CHAT_TEMPLATE,
} from '../../../src/engine/io/index.ts';
import type { HostTensor, LoraAdapter } from '../../../src/engine/types.ts';
import { randomWeights, rng, sameBits, spTokenizerJson, tinyConfig, tmpDir } from './util.ts';

const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
const tok = trainBpe('the cat sat on the mat. the dog ate the cat food. 12 34 '.repeat(30), { vocabSize: 290, specialTokens: SPECIALS });
const config = tinyConfig({ vocab_size: 300, bos_token_id: 1, eos_token_id: 2 });

function readTensor(file: string, dataStart: bigint, info: { offset: bigint; shape: bigint[]; dtype: number }): Float32Array {
  const n = info.shape.reduce((a, b) => a * Number(b), 1);
  const bytes = fs.readFileSync(file).subarray(Number(dataStart + info.offset));
  if (info.dtype === 0) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 4));
  return decodeF16(new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 2)));
}

test('GGUF model export parses with @huggingface/gguf: llama metadata, tokenizer, tensor names/shapes/types, 32-byte alignment', async () => {
  const dir = tmpDir('gguf');
  const file = path.join(dir, 'model.gguf');
  const weights = randomWeights(config, 1);
  exportGguf(
    file,
    {
      config,
      weights,
      tokenizer: tok,
      tokenizerConfig: {
        bos_token: '<|im_start|>',
        eos_token: '<|im_end|>',
        pad_token: '<|endoftext|>',
        chat_template: DEFAULT_CHAT_TEMPLATE,
      },
    },
    { dtype: 'F16' },
  );
  const { metadata: m, tensorInfos, tensorDataOffset } = await gguf(file, { allowLocalFile: true });
  const md = m as Record<string, any>;
  assert.equal(md.version, 3);
  assert.equal(md['general.architecture'], 'llama');
  assert.equal(md['llama.block_count'], 2);
  assert.equal(md['llama.embedding_length'], 32);
  assert.equal(md['llama.feed_forward_length'], 64);
  assert.equal(md['llama.attention.head_count'], 4);
  assert.equal(md['llama.attention.head_count_kv'], 2);
  assert.equal(md['llama.context_length'], 128);
  assert.equal(md['llama.rope.dimension_count'], 8);
  assert.equal(md['llama.rope.freq_base'], 10000);
  assert.ok(Math.abs(md['llama.attention.layer_norm_rms_epsilon'] - 1e-5) < 1e-10);
  assert.equal(md['llama.vocab_size'], 300);
  assert.equal(md['tokenizer.ggml.model'], 'gpt2');
  assert.equal(md['tokenizer.ggml.pre'], 'gpt-2');
  assert.equal(md['tokenizer.ggml.tokens'].length, 300);
  assert.deepEqual(md['tokenizer.ggml.tokens'].slice(0, tok.vocabSize), tok.tokens());
  assert.ok(md['tokenizer.ggml.tokens'].includes('Ġthe'));
  assert.equal(md['tokenizer.ggml.tokens'][295], '[PAD295]');
  assert.deepEqual(md['tokenizer.ggml.token_type'].slice(0, 4), [3, 3, 3, 1]);
  assert.equal(md['tokenizer.ggml.token_type'][299], 5);
  assert.deepEqual(md['tokenizer.ggml.merges'], tok.mergeList());
  assert.equal(md['tokenizer.ggml.bos_token_id'], 1);
  assert.equal(md['tokenizer.ggml.eos_token_id'], 2);
  assert.equal(md['tokenizer.ggml.padding_token_id'], 0);
  assert.equal(md['tokenizer.ggml.add_bos_token'], false);
  assert.equal(md['tokenizer.chat_template'], DEFAULT_CHAT_TEMPLATE);
  assert.equal(Number(tensorDataOffset) % 32, 0);
  const byName = new Map(tensorInfos.map((t) => [t.name, t]));
  assert.equal(tensorInfos.length, 2 * 9 + 2); // tied: no output.weight
  assert.ok(!byName.has('output.weight'));
  for (const t of tensorInfos) assert.equal(Number(t.offset) % 32, 0, t.name);
  assert.deepEqual(byName.get('token_embd.weight')!.shape, [32n, 300n]);
  assert.deepEqual(byName.get('blk.1.attn_k.weight')!.shape, [32n, 16n]);
  assert.deepEqual(byName.get('blk.0.ffn_down.weight')!.shape, [64n, 32n]);
  assert.deepEqual(byName.get('blk.0.attn_norm.weight')!.shape, [32n]);
  assert.equal(byName.get('blk.0.attn_norm.weight')!.dtype, 0);
  assert.equal(byName.get('blk.0.ffn_gate.weight')!.dtype, 1);
  for (const n of [
    'blk.0.attn_q.weight',
    'blk.0.attn_output.weight',
    'blk.1.ffn_up.weight',
    'output_norm.weight',
    'blk.1.ffn_norm.weight',
    'blk.1.attn_v.weight',
  ])
    assert.ok(byName.has(n), n);
  // data: q/k permuted, others as is (F16-rounded)
  const f16 = (a: Float32Array) => decodeF16(encodeF16(a));
  const q = weights.get('model.layers.0.self_attn.q_proj.weight')!;
  assert.ok(sameBits(unpermuteQK(readTensor(file, tensorDataOffset, byName.get('blk.0.attn_q.weight')!), 32, 32, 4), f16(q.data)));
  const k = weights.get('model.layers.1.self_attn.k_proj.weight')!;
  assert.ok(sameBits(unpermuteQK(readTensor(file, tensorDataOffset, byName.get('blk.1.attn_k.weight')!), 16, 32, 2), f16(k.data)));
  assert.ok(
    sameBits(
      readTensor(file, tensorDataOffset, byName.get('blk.0.ffn_up.weight')!),
      f16(weights.get('model.layers.0.mlp.up_proj.weight')!.data),
    ),
  );
  assert.ok(sameBits(readTensor(file, tensorDataOffset, byName.get('output_norm.weight')!), weights.get('model.norm.weight')!.data));
  // untied models get output.weight
  const c2 = { ...config, tie_word_embeddings: false };
  exportGguf(file, { config: c2, weights: randomWeights(c2, 2), tokenizer: tok });
  const p2 = await gguf(file, { allowLocalFile: true });
  assert.deepEqual(p2.tensorInfos.find((t) => t.name === 'output.weight')!.shape, [32n, 300n]);
  assert.equal(p2.tensorInfos.find((t) => t.name === 'output.weight')!.dtype, 0);
});

/** HF Llama RoPE (rotate_half) on one head vector at position p */
function ropeHf(x: Float64Array, p: number, base: number): Float64Array {
  const d = x.length,
    h = d / 2,
    out = new Float64Array(d);
  for (let i = 0; i < h; i++) {
    const th = p * base ** ((-2 * i) / d),
      c = Math.cos(th),
      s = Math.sin(th);
    out[i] = x[i] * c - x[i + h] * s;
    out[i + h] = x[i + h] * c + x[i] * s;
  }
  return out;
}
/** GGML "normal" RoPE (adjacent pairs), what llama.cpp uses for the llama architecture */
function ropeGgml(x: Float64Array, p: number, base: number): Float64Array {
  const d = x.length,
    out = new Float64Array(d);
  for (let i = 0; i < d / 2; i++) {
    const th = p * base ** ((-2 * i) / d),
      c = Math.cos(th),
      s = Math.sin(th);
    out[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
    out[2 * i + 1] = x[2 * i + 1] * c + x[2 * i] * s;
  }
  return out;
}

test('q/k permutation turns HF rotate_half RoPE into GGML interleaved RoPE (attention scores equal)', () => {
  const r = rng(5),
    heads = 2,
    d = 8,
    cols = 6;
  const W = Float32Array.from({ length: heads * d * cols }, () => r() - 0.5);
  const P = permuteQK(W, heads * d, cols, heads);
  assert.ok(sameBits(unpermuteQK(P, heads * d, cols, heads), W));
  const x = Float64Array.from({ length: cols }, () => r() - 0.5);
  const mul = (M: Float32Array) =>
    Float64Array.from({ length: heads * d }, (_, row) => {
      let s = 0;
      for (let c = 0; c < cols; c++) s += M[row * cols + c] * x[c];
      return s;
    });
  const qHf = mul(W),
    qG = mul(P);
  for (let h = 0; h < heads; h++) {
    const a = ropeHf(qHf.subarray(h * d, h * d + d), 7, 10000);
    const b = ropeGgml(qG.subarray(h * d, h * d + d), 7, 10000);
    // b is a with rows permuted: same multiset and, per pair, HF (i, i+d/2) -> GGML (2i, 2i+1)
    for (let i = 0; i < d / 2; i++) {
      assert.ok(Math.abs(a[i] - b[2 * i]) < 1e-12);
      assert.ok(Math.abs(a[i + d / 2] - b[2 * i + 1]) < 1e-12);
    }
  }
});

test('GGUF LoRA adapter: general.type adapter, alpha, lora_a/lora_b names and shapes, q lora_b permuted', async () => {
  const r = rng(8);
  const t = (shape: number[]): HostTensor => ({ shape, data: Float32Array.from({ length: shape[0] * shape[1] }, () => r() - 0.5) });
  const adapter: LoraAdapter = {
    rank: 4,
    alpha: 16,
    dropout: 0,
    targetModules: ['q_proj', 'v_proj'],
    weights: new Map([
      ['model.layers.0.self_attn.q_proj', { A: t([4, 32]), B: t([32, 4]) }],
      ['model.layers.1.self_attn.v_proj', { A: t([4, 32]), B: t([16, 4]) }],
    ]),
  };
  const file = path.join(tmpDir('lora'), 'adapter.gguf');
  exportLoraGguf(file, adapter, config);
  const { metadata, tensorInfos, tensorDataOffset } = await gguf(file, { allowLocalFile: true });
  const md = metadata as Record<string, any>;
  assert.equal(md['general.architecture'], 'llama');
  assert.equal(md['general.type'], 'adapter');
  assert.equal(md['adapter.type'], 'lora');
  assert.equal(md['adapter.lora.alpha'], 16);
  const byName = new Map(tensorInfos.map((x) => [x.name, x]));
  assert.deepEqual(
    [...byName.keys()],
    ['blk.0.attn_q.weight.lora_a', 'blk.0.attn_q.weight.lora_b', 'blk.1.attn_v.weight.lora_a', 'blk.1.attn_v.weight.lora_b'],
  );
  assert.deepEqual(byName.get('blk.0.attn_q.weight.lora_a')!.shape, [32n, 4n]);
  assert.deepEqual(byName.get('blk.0.attn_q.weight.lora_b')!.shape, [4n, 32n]);
  assert.deepEqual(byName.get('blk.1.attn_v.weight.lora_b')!.shape, [4n, 16n]);
  const q = adapter.weights.get('model.layers.0.self_attn.q_proj')!;
  assert.ok(sameBits(readTensor(file, tensorDataOffset, byName.get('blk.0.attn_q.weight.lora_a')!), q.A.data));
  assert.ok(sameBits(readTensor(file, tensorDataOffset, byName.get('blk.0.attn_q.weight.lora_b')!), permuteQK(q.B.data, 32, 4, 4)));
  assert.ok(
    sameBits(
      readTensor(file, tensorDataOffset, byName.get('blk.1.attn_v.weight.lora_b')!),
      adapter.weights.get('model.layers.1.self_attn.v_proj')!.B.data,
    ),
  );
});

test('writeGguf: every metadata value type round trips through @huggingface/gguf', async () => {
  const file = path.join(tmpDir('kv'), 'kv.gguf');
  writeGguf(
    file,
    [
      ['a.u8', { type: 'u8', value: 200 }],
      ['a.i8', { type: 'i8', value: -5 }],
      ['a.u16', { type: 'u16', value: 60000 }],
      ['a.i16', { type: 'i16', value: -300 }],
      ['a.u32', { type: 'u32', value: 4e9 }],
      ['a.i32', { type: 'i32', value: -2e9 }],
      ['a.f32', { type: 'f32', value: 0.5 }],
      ['a.bool', { type: 'bool', value: true }],
      ['a.str', { type: 'string', value: 'héllo 😀' }],
      ['a.u64', { type: 'u64', value: 2n ** 40n }],
      ['a.i64', { type: 'i64', value: -(2n ** 40n) }],
      ['a.f64', { type: 'f64', value: 0.1 }],
      ['a.arr', { type: 'array', itemType: 'i32', value: [1, -2, 3] }],
      ['a.sarr', { type: 'array', itemType: 'string', value: ['x', '', 'yz'] }],
    ],
    [{ name: 't', shape: [3], type: 'F32', data: Float32Array.of(1, 2, 3) }],
  );
  const { metadata } = await gguf(file, { allowLocalFile: true });
  const md = metadata as Record<string, any>;
  assert.equal(md['a.u8'], 200);
  assert.equal(md['a.i8'], -5);
  assert.equal(md['a.u16'], 60000);
  assert.equal(md['a.i16'], -300);
  assert.equal(md['a.u32'], 4e9);
  assert.equal(md['a.i32'], -2e9);
  assert.equal(md['a.f32'], 0.5);
  assert.equal(md['a.bool'], true);
  assert.equal(md['a.str'], 'héllo 😀');
  assert.equal(md['a.u64'], 2n ** 40n);
  assert.equal(md['a.i64'], -(2n ** 40n));
  assert.equal(md['a.f64'], 0.1);
  assert.deepEqual(md['a.arr'], [1, -2, 3]);
  assert.deepEqual(md['a.sarr'], ['x', '', 'yz']);
});

test('GGUF pre-tokenizer names follow the tokenizer layout; SentencePiece-style tokenizers are refused clearly', async () => {
  const { loadTokenizer, LLAMA3_PATTERN, ggufPreTokenizer } = await import('../../../src/engine/io/index.ts');
  const j = tok.toJSON() as any;
  assert.equal(ggufPreTokenizer(tok), 'gpt-2');
  assert.equal(
    ggufPreTokenizer(
      loadTokenizer({
        ...j,
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Digits', individual_digits: true },
            { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
          ],
        },
      }),
    ),
    'smollm',
  );
  assert.equal(
    ggufPreTokenizer(
      loadTokenizer({
        ...j,
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
            { type: 'ByteLevel', add_prefix_space: false, use_regex: false },
          ],
        },
      }),
    ),
    'llama-bpe',
  );
  const sp = loadTokenizer({ ...j, pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first' }, decoder: null });
  const file = path.join(tmpDir('sp'), 'm.gguf');
  assert.throws(() => exportGguf(file, { config, weights: randomWeights(config, 3), tokenizer: sp }), /byte-level/);
  assert.ok(!fs.existsSync(file));
});

test('GGUF export of a SentencePiece-style BPE (TinyLlama layout): llama tokenizer model, scores from merge ranks, token types', async () => {
  const { loadTokenizer } = await import('../../../src/engine/io/index.ts');
  const sp = loadTokenizer(spTokenizerJson(tok));
  const c = { ...config, vocab_size: sp.vocabSize + 3 };
  const file = path.join(tmpDir('spg'), 'm.gguf');
  exportGguf(file, { config: c, weights: randomWeights(c, 4), tokenizer: sp, tokenizerConfig: { bos_token: '<s>', eos_token: '</s>' } });
  const md = (await gguf(file, { allowLocalFile: true })).metadata as Record<string, any>;
  assert.equal(md['tokenizer.ggml.model'], 'llama');
  assert.equal(md['tokenizer.ggml.add_space_prefix'], true);
  assert.equal(md['tokenizer.ggml.add_bos_token'], true);
  assert.equal(md['tokenizer.ggml.bos_token_id'], 1);
  assert.equal(md['tokenizer.ggml.unknown_token_id'], 0);
  assert.deepEqual(md['tokenizer.ggml.token_type'].slice(0, 5), [2, 3, 3, 6, 6]);
  const scores: number[] = md['tokenizer.ggml.scores'];
  assert.equal(scores.length, c.vocab_size);
  const merges = sp.mergeList();
  const [a, b] = merges[0].split(' ');
  assert.equal(scores[sp.tokenId(a + b)!], -1);
  assert.equal(scores[sp.tokenId('a')!], 0);
});
