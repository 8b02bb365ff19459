import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LlamaConfig, Weights } from '../../../src/engine/types.ts';
import type { BpeTokenizer } from '../../../src/engine/io/index.ts';
import { paramShapes } from '../../../src/engine/config.ts';
import { Rng } from '../../../src/core/index.ts';

/** Seeded floats in [0, 1) from core's Rng. */
export const rng = (seed: number): (() => number) => {
  const r = new Rng(seed);
  return () => r.next();
};

export function randomWeights(config: LlamaConfig, seed = 1, scale = 0.1): Weights {
  const r = rng(seed);
  const w: Weights = new Map();
  for (const [name, shape] of paramShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const norm = name.endsWith('layernorm.weight') || name === 'model.norm.weight';
    for (let i = 0; i < n; i++) data[i] = norm ? 1 + (r() - 0.5) * 0.2 : (r() * 2 - 1) * scale;
    w.set(name, { shape, data });
  }
  return w;
}

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tmpDir(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `tunelab-io-${tag}-`));
  made.push(d);
  return d;
}

export const tinyConfig = (over: Partial<LlamaConfig> = {}): LlamaConfig => ({
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 128,
  vocab_size: 300,
  tie_word_embeddings: true,
  ...over,
});

export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
    y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A SentencePiece-style BPE (Llama 2 / TinyLlama layout) built from the byte-level merges on letters. */
export function spTokenizerJson(bl: BpeTokenizer): any {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  let next = 259;
  const ok = /^[a-zA-Z▁]+$/;
  for (const ch of '▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') vocab[ch] = next++;
  const merges: string[] = [];
  for (const m of bl.mergeList()) {
    const [a, b] = m.split(' ').map((x) => x.replace(/Ġ/g, '▁'));
    if (!ok.test(a) || !ok.test(b) || !(a in vocab) || !(b in vocab)) continue;
    if (!(a + b in vocab)) vocab[a + b] = next++;
    merges.push(`${a} ${b}`);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges,
    },
  };
}
