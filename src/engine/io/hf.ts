/**
 * Hugging Face folder layout for LlamaForCausalLM checkpoints: config.json, model.safetensors (or shards with
 * model.safetensors.index.json), tokenizer.json, tokenizer_config.json, generation_config.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostTensor, LlamaConfig, Weights } from '../types.ts';
import type { TokenizerConfig } from './chat.ts';
import { EngineIoError } from './errors.ts';
import { type FloatDtype, readSafetensors, writeFileAtomic, writeSafetensors } from './safetensors.ts';
import { BpeTokenizer, loadTokenizer } from './tokenizer.ts';

export interface GenerationConfig {
  bos_token_id?: number;
  eos_token_id?: number | number[];
  pad_token_id?: number;
  do_sample?: boolean;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  max_new_tokens?: number;
  [extra: string]: unknown;
}

export interface HfModel {
  config: LlamaConfig;
  weights: Weights;
  /** undefined when the folder has no tokenizer.json */
  tokenizer?: BpeTokenizer;
  tokenizerConfig: TokenizerConfig;
  generationConfig?: GenerationConfig;
  /** dtype each tensor had on disk */
  dtypes: Map<string, string>;
  /** tensors in the files that a Llama model does not use (e.g. rotary_emb.inv_freq, a tied lm_head) */
  ignored: string[];
}

function readJson(file: string, required: boolean): any {
  if (!fs.existsSync(file)) {
    if (required) throw new EngineIoError(file, 'missing');
    return undefined;
  }
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) { throw new EngineIoError(file, `bad JSON: ${(e as Error).message}`); }
}

/** Fill the defaults Hugging Face's LlamaConfig uses and check the fields tunelab's model needs. */
export function normalizeLlamaConfig(raw: any, where = 'config.json'): LlamaConfig {
  if (!raw || typeof raw !== 'object') throw new EngineIoError(where, 'not an object');
  const arch: string[] | undefined = raw.architectures;
  if (raw.model_type !== undefined && raw.model_type !== 'llama') throw new EngineIoError(where, `model_type "${raw.model_type}" is not supported (llama only)`);
  if (arch && !arch.includes('LlamaForCausalLM')) throw new EngineIoError(where, `architectures ${JSON.stringify(arch)} do not include LlamaForCausalLM`);
  if (raw.hidden_act !== undefined && raw.hidden_act !== 'silu') throw new EngineIoError(where, `hidden_act "${raw.hidden_act}" is not supported (silu only)`);
  if (raw.attention_bias) throw new EngineIoError(where, 'attention_bias is not supported');
  if (raw.mlp_bias) throw new EngineIoError(where, 'mlp_bias is not supported');
  const c: LlamaConfig = {
    ...raw,
    architectures: arch ?? ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: raw.hidden_size,
    intermediate_size: raw.intermediate_size,
    num_hidden_layers: raw.num_hidden_layers,
    num_attention_heads: raw.num_attention_heads,
    num_key_value_heads: raw.num_key_value_heads ?? raw.num_attention_heads,
    rms_norm_eps: raw.rms_norm_eps ?? 1e-6,
    rope_theta: raw.rope_theta ?? 10000,
    max_position_embeddings: raw.max_position_embeddings ?? 2048,
    vocab_size: raw.vocab_size,
    tie_word_embeddings: raw.tie_word_embeddings ?? false,
  };
  for (const k of ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'vocab_size', 'max_position_embeddings'] as const) {
    if (!Number.isInteger(c[k]) || (c[k] as number) <= 0) throw new EngineIoError(`${where}: ${k}`, `must be a positive integer, got ${JSON.stringify(raw[k])}`);
  }
  if (c.num_attention_heads % c.num_key_value_heads !== 0) throw new EngineIoError(`${where}: num_key_value_heads`, `${c.num_key_value_heads} does not divide num_attention_heads ${c.num_attention_heads}`);
  if (c.head_dim === undefined || c.head_dim === null) {
    if (c.hidden_size % c.num_attention_heads !== 0) throw new EngineIoError(`${where}: hidden_size`, 'not divisible by num_attention_heads and no head_dim given');
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  return c;
}

/** Tensor names and shapes a LlamaForCausalLM with this config has (lm_head only when not tied). */
export function llamaWeightShapes(c: LlamaConfig): Map<string, number[]> {
  const hd = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  const h = c.hidden_size, q = c.num_attention_heads * hd, kv = c.num_key_value_heads * hd, f = c.intermediate_size;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [c.vocab_size, h]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    m.set(p + 'input_layernorm.weight', [h]);
    m.set(p + 'self_attn.q_proj.weight', [q, h]);
    m.set(p + 'self_attn.k_proj.weight', [kv, h]);
    m.set(p + 'self_attn.v_proj.weight', [kv, h]);
    m.set(p + 'self_attn.o_proj.weight', [h, q]);
    m.set(p + 'post_attention_layernorm.weight', [h]);
    m.set(p + 'mlp.gate_proj.weight', [f, h]);
    m.set(p + 'mlp.up_proj.weight', [f, h]);
    m.set(p + 'mlp.down_proj.weight', [h, f]);
  }
  m.set('model.norm.weight', [h]);
  if (!c.tie_word_embeddings) m.set('lm_head.weight', [c.vocab_size, h]);
  return m;
}

/** Check weights against a config: every expected tensor present with its shape. Returns names not expected. */
export function checkLlamaWeights(config: LlamaConfig, weights: Weights, where = 'weights'): string[] {
  const shapes = llamaWeightShapes(config);
  for (const [name, shape] of shapes) {
    const t = weights.get(name);
    if (!t) throw new EngineIoError(where, `tensor ${name} is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) throw new EngineIoError(where, `tensor ${name} has shape [${t.shape}], config says [${shape}]`);
  }
  return [...weights.keys()].filter((k) => !shapes.has(k));
}

/** Special-token fields of tokenizer_config.json may be strings or AddedToken objects: make them strings. */
export function normalizeTokenizerConfig(raw: any): TokenizerConfig {
  const c: TokenizerConfig = { ...(raw ?? {}) };
  for (const k of ['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const) {
    const v = (c as any)[k];
    if (v && typeof v === 'object' && typeof v.content === 'string') (c as any)[k] = v.content;
  }
  return c;
}

function weightFiles(dir: string): string[] {
  const idx = path.join(dir, 'model.safetensors.index.json');
  if (fs.existsSync(idx)) {
    const j = readJson(idx, true);
    if (!j.weight_map || typeof j.weight_map !== 'object') throw new EngineIoError(idx, 'no weight_map');
    return [...new Set(Object.values(j.weight_map as Record<string, string>))].map((f) => path.join(dir, f));
  }
  const single = path.join(dir, 'model.safetensors');
  if (fs.existsSync(single)) return [single];
  if (fs.existsSync(path.join(dir, 'pytorch_model.bin'))) throw new EngineIoError(dir, 'only pytorch_model.bin found: convert it to safetensors first (tunelab does not read pickles)');
  throw new EngineIoError(dir, 'no model.safetensors or model.safetensors.index.json');
}

export function loadHfModel(dir: string): HfModel {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new EngineIoError(dir, 'not a folder');
  const config = normalizeLlamaConfig(readJson(path.join(dir, 'config.json'), true), path.join(dir, 'config.json'));
  const weights: Weights = new Map();
  const dtypes = new Map<string, string>();
  for (const f of weightFiles(dir)) {
    const st = readSafetensors(f);
    for (const [k, v] of st.tensors) {
      if (weights.has(k)) throw new EngineIoError(f, `tensor ${k} appears in more than one shard`);
      weights.set(k, v); dtypes.set(k, st.dtypes.get(k)!);
    }
  }
  const ignored: string[] = [];
  if (config.tie_word_embeddings && weights.has('lm_head.weight')) { weights.delete('lm_head.weight'); ignored.push('lm_head.weight'); }
  for (const k of [...weights.keys()]) if (/\.rotary_emb\.inv_freq$/.test(k)) { weights.delete(k); ignored.push(k); }
  const extra = checkLlamaWeights(config, weights, dir);
  if (extra.length) throw new EngineIoError(dir, `tensors a Llama model does not have: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
  const tokJson = readJson(path.join(dir, 'tokenizer.json'), false);
  const tokenizer = tokJson ? loadTokenizer(tokJson, path.join(dir, 'tokenizer.json')) : undefined;
  if (tokenizer && tokenizer.vocabSize > config.vocab_size) throw new EngineIoError(path.join(dir, 'tokenizer.json'), `has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${config.vocab_size}`);
  const tokenizerConfig = normalizeTokenizerConfig(readJson(path.join(dir, 'tokenizer_config.json'), false));
  // a chat template may also live in chat_template.jinja / chat_template.json (newer transformers)
  if (tokenizerConfig.chat_template === undefined) {
    const jinja = path.join(dir, 'chat_template.jinja');
    if (fs.existsSync(jinja)) tokenizerConfig.chat_template = fs.readFileSync(jinja, 'utf8');
    else {
      const ctj = readJson(path.join(dir, 'chat_template.json'), false);
      if (ctj?.chat_template) tokenizerConfig.chat_template = ctj.chat_template;
    }
  }
  const generationConfig = readJson(path.join(dir, 'generation_config.json'), false);
  return { config, weights, tokenizer, tokenizerConfig, generationConfig, dtypes, ignored };
}

export interface SaveHfModelInput {
  config: LlamaConfig;
  weights: Weights;
  tokenizer?: { toJSON(): unknown };
  tokenizerConfig?: TokenizerConfig;
  generationConfig?: GenerationConfig;
}

export interface SaveHfModelOptions {
  /** dtype of model.safetensors (default F32) */
  dtype?: FloatDtype;
  /** split into model-0000i-of-0000n.safetensors shards above this many bytes (default: one file) */
  maxShardBytes?: number;
  /** safetensors __metadata__ besides {format: "pt"} */
  metadata?: Record<string, string>;
}

const TORCH_DTYPE: Record<FloatDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };
const ELEM: Record<FloatDtype, number> = { F32: 4, F16: 2, BF16: 2 };

const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n';

export function saveHfModel(dir: string, model: SaveHfModelInput, options: SaveHfModelOptions = {}): void {
  const dtype = options.dtype ?? 'F32';
  const config = { ...normalizeLlamaConfig(model.config), torch_dtype: TORCH_DTYPE[dtype] };
  const extra = checkLlamaWeights(config, model.weights);
  if (extra.length) throw new EngineIoError('saveHfModel', `tensors a Llama model does not have: ${extra.slice(0, 5).join(', ')}`);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'config.json'), json(config));
  const metadata = { format: 'pt', ...options.metadata };
  const names = [...model.weights.keys()].sort();
  const sizeOf = (t: HostTensor) => t.data.length * ELEM[dtype];
  const total = names.reduce((a, n) => a + sizeOf(model.weights.get(n)!), 0);
  const max = options.maxShardBytes;
  for (const f of fs.readdirSync(dir)) if (/^model(-\d+-of-\d+)?\.safetensors(\.index\.json)?$/.test(f)) fs.rmSync(path.join(dir, f));
  if (!max || total <= max) {
    writeSafetensors(path.join(dir, 'model.safetensors'), model.weights, { dtype, metadata });
  } else {
    const shards: string[][] = [[]];
    let cur = 0;
    for (const n of names) {
      const s = sizeOf(model.weights.get(n)!);
      if (cur > 0 && cur + s > max) { shards.push([]); cur = 0; }
      shards[shards.length - 1].push(n); cur += s;
    }
    const weightMap: Record<string, string> = {};
    const pad = (i: number) => String(i).padStart(5, '0');
    shards.forEach((list, i) => {
      const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
      writeSafetensors(path.join(dir, file), new Map(list.map((n) => [n, model.weights.get(n)!])), { dtype, metadata });
      for (const n of list) weightMap[n] = file;
    });
    writeFileAtomic(path.join(dir, 'model.safetensors.index.json'), json({ metadata: { total_size: total }, weight_map: weightMap }));
  }
  if (model.tokenizer) writeFileAtomic(path.join(dir, 'tokenizer.json'), JSON.stringify(model.tokenizer.toJSON(), null, 2) + '\n');
  const tc: TokenizerConfig = { tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false, model_max_length: config.max_position_embeddings, ...model.tokenizerConfig };
  if (model.tokenizer || model.tokenizerConfig) {
    writeFileAtomic(path.join(dir, 'tokenizer_config.json'), json(tc));
    const stm: Record<string, string> = {};
    for (const k of ['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const) if (typeof tc[k] === 'string') stm[k] = tc[k] as string;
    writeFileAtomic(path.join(dir, 'special_tokens_map.json'), json(stm));
  }
  const gc: GenerationConfig = model.generationConfig ?? {
    ...(config.bos_token_id !== undefined ? { bos_token_id: config.bos_token_id } : {}),
    ...(config.eos_token_id !== undefined ? { eos_token_id: config.eos_token_id } : {}),
    ...(config.pad_token_id !== undefined ? { pad_token_id: config.pad_token_id } : {}),
  };
  writeFileAtomic(path.join(dir, 'generation_config.json'), json(gc));
}
