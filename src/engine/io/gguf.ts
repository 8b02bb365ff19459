/**
 * GGUF v3 writer (own code): header, metadata key/values, tensor infos, 32-byte aligned tensor data.
 * Exports Llama-family models as llama.cpp's architectures (llama, qwen2, qwen3; byte-level BPE tokenizer as "gpt2")
 * and LoRA adapters (general.type=adapter). For llama, the q/k rows are permuted as llama.cpp's converter does
 * (HF rotate_half RoPE -> GGML's interleaved RoPE) and llama3 rope scaling becomes a `rope_freqs.weight` tensor of
 * per-frequency factors; qwen2/qwen3 use GGML's NEOX RoPE (rotate_half), so their rows stay as they are.
 */
import * as fs from 'node:fs';
import type { LlamaConfig, LoraAdapter, Weights } from '../types.ts';
import type { TokenizerConfig } from './chat.ts';
import { EngineIoError } from './errors.ts';
import { encodeF16 } from './half.ts';
import {
  checkWeights,
  llama3FreqFactor,
  modelType,
  normalizeLlamaConfig,
  ropeScalingKind,
  type ModelType,
  type RopeScaling,
} from '../config.ts';
import { writeAtomic } from './safetensors.ts';
import { QWEN2_PATTERN, type BpeTokenizer } from './tokenizer.ts';

export const GGUF_ALIGNMENT = 32;

/** GGUF metadata value types */
export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
type ScalarKind = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'bool' | 'string' | 'u64' | 'i64' | 'f64';
const KIND_TYPE: Record<ScalarKind, number> = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  u64: 10,
  i64: 11,
  f64: 12,
};

export type GgufValue =
  | { type: ScalarKind; value: number | bigint | boolean | string }
  | { type: 'array'; itemType: ScalarKind; value: Array<number | bigint | boolean | string> };

/** ggml tensor types written here */
export const GgmlType = { F32: 0, F16: 1 } as const;

export interface GgufTensor {
  name: string;
  /** row-major shape as in PyTorch/safetensors ([out, in] for a Linear); written reversed as ggml ne */
  shape: number[];
  type: 'F32' | 'F16';
  data: Float32Array;
}

class Chunks {
  parts: Buffer[] = [];
  size = 0;
  push(b: Buffer) {
    this.parts.push(b);
    this.size += b.length;
  }
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  scalar(kind: ScalarKind, v: number | bigint | boolean | string) {
    const b = Buffer.alloc(8);
    switch (kind) {
      case 'u8':
        b.writeUInt8(Number(v));
        this.push(b.subarray(0, 1));
        return;
      case 'i8':
        b.writeInt8(Number(v));
        this.push(b.subarray(0, 1));
        return;
      case 'u16':
        b.writeUInt16LE(Number(v));
        this.push(b.subarray(0, 2));
        return;
      case 'i16':
        b.writeInt16LE(Number(v));
        this.push(b.subarray(0, 2));
        return;
      case 'u32':
        b.writeUInt32LE(Number(v));
        this.push(b.subarray(0, 4));
        return;
      case 'i32':
        b.writeInt32LE(Number(v));
        this.push(b.subarray(0, 4));
        return;
      case 'f32':
        b.writeFloatLE(Number(v));
        this.push(b.subarray(0, 4));
        return;
      case 'bool':
        b.writeUInt8(v ? 1 : 0);
        this.push(b.subarray(0, 1));
        return;
      case 'u64':
        b.writeBigUInt64LE(BigInt(v as number));
        this.push(b);
        return;
      case 'i64':
        b.writeBigInt64LE(BigInt(v as number));
        this.push(b);
        return;
      case 'f64':
        b.writeDoubleLE(Number(v));
        this.push(b);
        return;
      case 'string':
        this.str(String(v));
        return;
    }
  }
}

const ELEM = { F32: 4, F16: 2 } as const;
const align = (n: number) => Math.ceil(n / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;

/** Write a GGUF v3 file. Metadata keys are written in the given order. */
export function writeGguf(file: string, metadata: Array<[string, GgufValue]>, tensors: GgufTensor[]): void {
  const seen = new Set<string>();
  for (const [k] of metadata) {
    if (seen.has(k)) throw new EngineIoError('writeGguf', `duplicate metadata key ${k}`);
    seen.add(k);
  }
  const head = new Chunks();
  head.push(Buffer.from('GGUF', 'ascii'));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.length);
  for (const [key, v] of metadata) {
    head.str(key);
    if (v.type === 'array') {
      head.u32(GgufType.ARRAY);
      head.u32(KIND_TYPE[v.itemType]);
      head.u64(v.value.length);
      for (const x of v.value) head.scalar(v.itemType, x);
    } else {
      head.u32(KIND_TYPE[v.type]);
      head.scalar(v.type, v.value);
    }
  }
  let off = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new EngineIoError('writeGguf', `tensor ${t.name}: shape [${t.shape}] has ${n} elements, data ${t.data.length}`);
    head.str(t.name);
    head.u32(t.shape.length);
    for (let i = t.shape.length - 1; i >= 0; i--) head.u64(t.shape[i]);
    head.u32(GgmlType[t.type]);
    head.u64(off);
    offsets.push(off);
    off = align(off + n * ELEM[t.type]);
  }
  const pad = align(head.size) - head.size;
  if (pad) head.push(Buffer.alloc(pad));
  writeAtomic(file, (fd) => {
    for (const p of head.parts) fs.writeSync(fd, p);
    let pos = 0;
    tensors.forEach((t, i) => {
      if (offsets[i] > pos) {
        fs.writeSync(fd, Buffer.alloc(offsets[i] - pos));
        pos = offsets[i];
      }
      const bytes =
        t.type === 'F32'
          ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
          : (() => {
              const h = encodeF16(t.data);
              return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
            })();
      fs.writeSync(fd, bytes);
      pos += bytes.byteLength;
    });
    if (off > pos) fs.writeSync(fd, Buffer.alloc(off - pos));
  });
}

/**
 * Rows of a q/k projection reordered from Hugging Face's rotate_half RoPE layout to GGML's interleaved
 * layout: within each head, row j*(d/2)+i moves to 2i+j (as llama.cpp's convert_hf_to_gguf permute does).
 * Works on any [heads*d, cols] matrix (also a LoRA B).
 */
export function permuteQK(data: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  if (rows % heads !== 0 || (rows / heads) % 2 !== 0)
    throw new EngineIoError('permuteQK', `${rows} rows cannot split into ${heads} heads of even size`);
  const d = rows / heads,
    half = d / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < half; i++) {
        const src = (h * d + j * half + i) * cols;
        const dst = (h * d + 2 * i + j) * cols;
        out.set(data.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** Inverse of permuteQK (GGML layout back to Hugging Face's). */
export function unpermuteQK(data: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const d = rows / heads,
    half = d / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < 2; j++)
      for (let i = 0; i < half; i++) {
        const src = (h * d + 2 * i + j) * cols,
          dst = (h * d + j * half + i) * cols;
        out.set(data.subarray(src, src + cols), dst);
      }
  return out;
}

const LAYER_MAP: Array<[RegExp, string]> = [
  [/^model\.layers\.(\d+)\.self_attn\.q_proj\.weight$/, 'blk.$1.attn_q.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.k_proj\.weight$/, 'blk.$1.attn_k.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.v_proj\.weight$/, 'blk.$1.attn_v.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\.weight$/, 'blk.$1.attn_output.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.q_proj\.bias$/, 'blk.$1.attn_q.bias'],
  [/^model\.layers\.(\d+)\.self_attn\.k_proj\.bias$/, 'blk.$1.attn_k.bias'],
  [/^model\.layers\.(\d+)\.self_attn\.v_proj\.bias$/, 'blk.$1.attn_v.bias'],
  [/^model\.layers\.(\d+)\.self_attn\.q_norm\.weight$/, 'blk.$1.attn_q_norm.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.k_norm\.weight$/, 'blk.$1.attn_k_norm.weight'],
  [/^model\.layers\.(\d+)\.mlp\.gate_proj\.weight$/, 'blk.$1.ffn_gate.weight'],
  [/^model\.layers\.(\d+)\.mlp\.up_proj\.weight$/, 'blk.$1.ffn_up.weight'],
  [/^model\.layers\.(\d+)\.mlp\.down_proj\.weight$/, 'blk.$1.ffn_down.weight'],
  [/^model\.layers\.(\d+)\.input_layernorm\.weight$/, 'blk.$1.attn_norm.weight'],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/, 'blk.$1.ffn_norm.weight'],
  [/^model\.embed_tokens\.weight$/, 'token_embd.weight'],
  [/^model\.norm\.weight$/, 'output_norm.weight'],
  [/^lm_head\.weight$/, 'output.weight'],
];

/** llama.cpp's name for a Hugging Face Llama / Qwen2 / Qwen3 tensor name. */
export function ggufTensorName(hfName: string): string {
  for (const [re, to] of LAYER_MAP) if (re.test(hfName)) return hfName.replace(re, to);
  throw new EngineIoError('gguf', `no llama.cpp name for tensor ${hfName}`);
}

/** llama.cpp pre-tokenizer name for a tokenizer's pre-tokenizer layout. */
export function ggufPreTokenizer(tok: BpeTokenizer): string {
  const j = tok.toJSON() as any;
  const pre = j.pre_tokenizer;
  if (pre?.type === 'ByteLevel' && pre.use_regex !== false && !pre.add_prefix_space) return 'gpt-2';
  if (pre?.type === 'Sequence') {
    const kinds = (pre.pretokenizers as any[]).map((p) => p.type).join(',');
    if (kinds === 'Digits,ByteLevel' && pre.pretokenizers[0].individual_digits) return 'smollm';
    if (kinds === 'Split,ByteLevel') return pre.pretokenizers[0].pattern?.Regex === QWEN2_PATTERN ? 'qwen2' : 'llama-bpe';
  }
  throw new EngineIoError('gguf', `pre-tokenizer ${JSON.stringify(pre)} has no known llama.cpp equivalent`);
}

export interface GgufExportInput {
  config: LlamaConfig;
  weights: Weights;
  tokenizer: BpeTokenizer;
  tokenizerConfig?: TokenizerConfig;
}

export interface GgufExportOptions {
  /** F16 stores 2-D weights in half precision (norms stay F32, as llama.cpp's converter does). Default F32. */
  dtype?: 'F32' | 'F16';
  /** general.name */
  name?: string;
  /** tokenizer.ggml.add_bos_token (default: whether the tokenizer's post-processor adds one) */
  addBosToken?: boolean;
  /** extra metadata appended after the standard keys */
  metadata?: Array<[string, GgufValue]>;
}

/** llama.cpp's architecture name for a config's model_type (the GGUF metadata prefix). */
export function ggufArchitecture(config: LlamaConfig): ModelType {
  return modelType(config);
}

/** llama.cpp's NORM RoPE (llama) rotates interleaved pairs, so HF's q/k rows are permuted; NEOX (qwen2, qwen3) is HF's rotate_half. */
const PERMUTES_QK: Record<ModelType, boolean> = { llama: true, qwen2: false, qwen3: false };

/**
 * llama3 rope scaling as llama.cpp's converter writes it: one factor per frequency (1 for short wavelengths, `factor`
 * for long ones, smoothly in between); llama.cpp divides each rotary frequency by its factor.
 */
export function llama3RopeFactors(c: LlamaConfig): Float32Array {
  const rs = (c.rope_scaling ?? {}) as RopeScaling;
  const hd = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  const out = new Float32Array(hd / 2);
  // frequencies in float32, as llama.cpp's converter computes them
  for (let i = 0; i < hd / 2; i++)
    out[i] = llama3FreqFactor(rs, (2 * Math.PI) / Math.fround(1 / Math.fround(Math.pow(c.rope_theta, (2 * i) / hd))));
  return out;
}

function modelHparams(c: LlamaConfig): Array<[string, GgufValue]> {
  const arch = ggufArchitecture(c);
  const hd = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  const kv: Array<[string, GgufValue]> = [
    [`${arch}.context_length`, { type: 'u32', value: c.max_position_embeddings }],
    [`${arch}.embedding_length`, { type: 'u32', value: c.hidden_size }],
    [`${arch}.block_count`, { type: 'u32', value: c.num_hidden_layers }],
    [`${arch}.feed_forward_length`, { type: 'u32', value: c.intermediate_size }],
    [`${arch}.attention.head_count`, { type: 'u32', value: c.num_attention_heads }],
    [`${arch}.attention.head_count_kv`, { type: 'u32', value: c.num_key_value_heads }],
    [`${arch}.rope.freq_base`, { type: 'f32', value: c.rope_theta }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: c.rms_norm_eps }],
    [`${arch}.rope.dimension_count`, { type: 'u32', value: hd }],
    [`${arch}.vocab_size`, { type: 'u32', value: c.vocab_size }],
  ];
  if (hd * c.num_attention_heads !== c.hidden_size || arch === 'qwen3') {
    kv.push([`${arch}.attention.key_length`, { type: 'u32', value: hd }], [`${arch}.attention.value_length`, { type: 'u32', value: hd }]);
  }
  const kind = ropeScalingKind(c);
  if (kind === 'linear') {
    kv.push(
      [`${arch}.rope.scaling.type`, { type: 'string', value: 'linear' }],
      [`${arch}.rope.scaling.factor`, { type: 'f32', value: (c.rope_scaling as RopeScaling).factor ?? 1 }],
    );
  } else if (kind === 'llama3' && arch !== 'llama')
    throw new EngineIoError('gguf', `llama3 rope scaling is only exported for model_type llama (got ${arch})`);
  else if (kind && kind !== 'llama3')
    throw new EngineIoError('gguf', `rope_scaling ${JSON.stringify(c.rope_scaling)} is not supported in GGUF export`);
  return kv;
}

/** tokenizer.ggml.* metadata for a byte-level BPE tokenizer, padded to the model's vocab_size. */
export function ggufTokenizerMetadata(
  tok: BpeTokenizer,
  vocabSize: number,
  tc: TokenizerConfig = {},
  config?: LlamaConfig,
  addBos?: boolean,
): Array<[string, GgufValue]> {
  if (!tok.byteLevel) return spTokenizerMetadata(tok, vocabSize, tc, config, addBos);
  if (tok.vocabSize > vocabSize) throw new EngineIoError('gguf', `tokenizer has ${tok.vocabSize} tokens but the model only ${vocabSize}`);
  const tokens: string[] = [];
  const types: number[] = [];
  const added = new Map(tok.addedTokens().map((t) => [t.id, t]));
  for (let i = 0; i < vocabSize; i++) {
    const s = tok.idToToken(i);
    if (s === undefined) {
      tokens.push(`[PAD${i}]`);
      types.push(5);
      continue;
    } // UNUSED
    tokens.push(s);
    const a = added.get(i);
    types.push(a ? (a.special ? 3 : 4) : 1); // CONTROL / USER_DEFINED / NORMAL
  }
  const kv: Array<[string, GgufValue]> = [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: ggufPreTokenizer(tok) }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: types }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: tok.mergeList() }],
  ];
  kv.push(...specialTokenMetadata(tok, tc, config, addBos));
  return kv;
}

function specialTokenMetadata(
  tok: BpeTokenizer,
  tc: TokenizerConfig,
  config: LlamaConfig | undefined,
  addBos: boolean | undefined,
): Array<[string, GgufValue]> {
  const kv: Array<[string, GgufValue]> = [];
  const idOf = (field: string, configId: unknown): number | undefined => {
    const name = tc[field];
    if (typeof name === 'string') {
      const id = tok.tokenId(name);
      if (id !== undefined) return id;
    }
    if (typeof configId === 'number') return configId;
    if (Array.isArray(configId) && typeof configId[0] === 'number') return configId[0];
    return undefined;
  };
  const bos = idOf('bos_token', config?.bos_token_id),
    eos = idOf('eos_token', config?.eos_token_id);
  const pad = idOf('pad_token', config?.pad_token_id),
    unk = idOf('unk_token', undefined);
  if (bos !== undefined) kv.push(['tokenizer.ggml.bos_token_id', { type: 'u32', value: bos }]);
  if (eos !== undefined) kv.push(['tokenizer.ggml.eos_token_id', { type: 'u32', value: eos }]);
  if (unk !== undefined) kv.push(['tokenizer.ggml.unknown_token_id', { type: 'u32', value: unk }]);
  if (pad !== undefined) kv.push(['tokenizer.ggml.padding_token_id', { type: 'u32', value: pad }]);
  const bosAdded = addBos ?? tok.encode('', { addSpecialTokens: true }).length > 0;
  kv.push(['tokenizer.ggml.add_bos_token', { type: 'bool', value: bosAdded }]);
  kv.push(['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }]);
  const ct = tc.chat_template;
  const tmpl = typeof ct === 'string' ? ct : Array.isArray(ct) ? (ct.find((x) => x.name === 'default') ?? ct[0])?.template : undefined;
  if (tmpl) kv.push(['tokenizer.chat_template', { type: 'string', value: tmpl }]);
  return kv;
}

/**
 * SentencePiece-style BPE (Llama 2 / TinyLlama tokenizer.json: byte_fallback, "▁" for spaces) as llama.cpp's "llama"
 * tokenizer. llama.cpp merges the adjacent pair whose merged token has the highest score, so each token's score is
 * minus the rank of the merge that creates it (0 for single symbols): the same order BPE applies its merges in.
 */
function spTokenizerMetadata(
  tok: BpeTokenizer,
  vocabSize: number,
  tc: TokenizerConfig,
  config: LlamaConfig | undefined,
  addBos: boolean | undefined,
): Array<[string, GgufValue]> {
  const j = tok.toJSON() as any;
  const norm = JSON.stringify(j.normalizer ?? null),
    pre = j.pre_tokenizer;
  const prepend =
    norm.includes('"Prepend"') ||
    (pre?.type === 'Metaspace' && (pre.prepend_scheme ?? (pre.add_prefix_space === false ? 'never' : 'always')) !== 'never');
  const spLike = j.model?.byte_fallback && (norm.includes('▁') || pre?.type === 'Metaspace');
  if (!spLike)
    throw new EngineIoError('gguf', 'only byte-level BPE and SentencePiece-style (byte_fallback, "▁") tokenizers can be exported to GGUF');
  if (tok.vocabSize > vocabSize) throw new EngineIoError('gguf', `tokenizer has ${tok.vocabSize} tokens but the model only ${vocabSize}`);
  const score = new Map<string, number>();
  tok.mergeList().forEach((m, r) => {
    const k = m.indexOf(' ', 1);
    const t = m.slice(0, k) + m.slice(k + 1);
    if (!score.has(t)) score.set(t, -(r + 1));
  });
  const added = new Map(tok.addedTokens().map((t) => [t.id, t]));
  const unk = j.model?.unk_token;
  const tokens: string[] = [],
    scores: number[] = [],
    types: number[] = [];
  for (let i = 0; i < vocabSize; i++) {
    const s = tok.idToToken(i);
    if (s === undefined) {
      tokens.push(`[PAD${i}]`);
      scores.push(-1e9);
      types.push(5);
      continue;
    }
    tokens.push(s);
    const a = added.get(i);
    scores.push(a ? 0 : (score.get(s) ?? 0));
    types.push(s === unk ? 2 : a ? (a.special ? 3 : 4) : /^<0x[0-9A-Fa-f]{2}>$/.test(s) ? 6 : 1);
  }
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'default' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', value: scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: types }],
    ['tokenizer.ggml.add_space_prefix', { type: 'bool', value: prepend }],
    ...specialTokenMetadata(tok, { unk_token: unk, ...tc }, config, addBos),
  ];
}

/**
 * Tensors of a model under llama.cpp names (q/k rows permuted for llama; `rope_freqs.weight` for llama3 rope scaling);
 * norms, biases and rope factors F32, matrices in `dtype`.
 */
export function ggufModelTensors(config: LlamaConfig, weights: Weights, dtype: 'F32' | 'F16' = 'F32'): GgufTensor[] {
  const c = normalizeLlamaConfig(config);
  const extra = checkWeights(c, weights, 'gguf');
  if (extra.length) throw new EngineIoError('gguf', `tensors a ${c.model_type} model does not have: ${extra.slice(0, 5).join(', ')}`);
  const order = (n: string) => {
    const m = /^model\.layers\.(\d+)\./.exec(n);
    return m ? 1 + Number(m[1]) : n.startsWith('model.embed') ? 0 : 1e9;
  };
  const names = [...weights.keys()].sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
  const permute = PERMUTES_QK[ggufArchitecture(c)];
  const out: GgufTensor[] = [];
  if (ropeScalingKind(c) === 'llama3') {
    const f = llama3RopeFactors(c);
    out.push({ name: 'rope_freqs.weight', shape: [f.length], type: 'F32', data: f });
  }
  for (const n of names) {
    const t = weights.get(n)!;
    let data = t.data;
    if (permute && /self_attn\.q_proj\.weight$/.test(n)) data = permuteQK(data, t.shape[0], t.shape[1], c.num_attention_heads);
    if (permute && /self_attn\.k_proj\.weight$/.test(n)) data = permuteQK(data, t.shape[0], t.shape[1], c.num_key_value_heads);
    out.push({ name: ggufTensorName(n), shape: t.shape.slice(), type: t.shape.length === 1 ? 'F32' : dtype, data });
  }
  return out;
}

const FILE_TYPE = { F32: 0, F16: 1 } as const;

/** Export a Llama / Qwen2 / Qwen3 model with its tokenizer as a GGUF file llama.cpp loads (architecture = model_type). */
export function exportGguf(file: string, model: GgufExportInput, options: GgufExportOptions = {}): void {
  const c = normalizeLlamaConfig(model.config);
  const dtype = options.dtype ?? 'F32';
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: ggufArchitecture(c) }],
    ['general.type', { type: 'string', value: 'model' }],
    ['general.name', { type: 'string', value: options.name ?? 'tunelab-model' }],
    ['general.file_type', { type: 'u32', value: FILE_TYPE[dtype] }],
    ['general.alignment', { type: 'u32', value: GGUF_ALIGNMENT }],
    ...modelHparams(c),
    ...ggufTokenizerMetadata(model.tokenizer, c.vocab_size, model.tokenizerConfig, c, options.addBosToken),
    ...(options.metadata ?? []),
  ];
  writeGguf(file, metadata, ggufModelTensors(c, model.weights, dtype));
}

/**
 * Export a LoRA adapter as a llama.cpp GGUF adapter: general.type=adapter, adapter.type=lora, adapter.lora.alpha;
 * tensors blk.N.<name>.weight.lora_a (A, [r, in]) and .lora_b (B, [out, r]); for llama, B of q/k permuted like the base rows.
 */
export function exportLoraGguf(
  file: string,
  adapter: LoraAdapter,
  config: LlamaConfig,
  options: { dtype?: 'F32' | 'F16'; name?: string } = {},
): void {
  const c = normalizeLlamaConfig(config);
  const dtype = options.dtype ?? 'F32';
  const permute = PERMUTES_QK[ggufArchitecture(c)];
  const tensors: GgufTensor[] = [];
  const mods = [...adapter.weights.keys()].sort((a, b) => {
    const la = Number(/layers\.(\d+)\./.exec(a)?.[1] ?? -1),
      lb = Number(/layers\.(\d+)\./.exec(b)?.[1] ?? -1);
    return la - lb || (a < b ? -1 : 1);
  });
  for (const mod of mods) {
    const { A, B } = adapter.weights.get(mod)!;
    const base = ggufTensorName(`${mod}.weight`);
    let bData: Float32Array = B.data;
    if (permute && /self_attn\.q_proj$/.test(mod)) bData = permuteQK(B.data, B.shape[0], B.shape[1], c.num_attention_heads);
    if (permute && /self_attn\.k_proj$/.test(mod)) bData = permuteQK(B.data, B.shape[0], B.shape[1], c.num_key_value_heads);
    tensors.push({ name: `${base}.lora_a`, shape: A.shape.slice(), type: dtype, data: A.data });
    tensors.push({ name: `${base}.lora_b`, shape: B.shape.slice(), type: dtype, data: bData });
  }
  writeGguf(
    file,
    [
      ['general.architecture', { type: 'string', value: ggufArchitecture(c) }],
      ['general.type', { type: 'string', value: 'adapter' }],
      ['general.name', { type: 'string', value: options.name ?? 'tunelab-lora' }],
      ['general.file_type', { type: 'u32', value: FILE_TYPE[dtype] }],
      ['adapter.type', { type: 'string', value: 'lora' }],
      ['adapter.lora.alpha', { type: 'f32', value: adapter.alpha }],
    ],
    tensors,
  );
}
