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
import { checkWeights, normalizeLlamaConfig } from '../config.ts';

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
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new EngineIoError(file, `bad JSON: ${(e as Error).message}`);
  }
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
  if (fs.existsSync(path.join(dir, 'pytorch_model.bin')))
    throw new EngineIoError(dir, 'only pytorch_model.bin found: convert it to safetensors first (tunelab does not read pickles)');
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
      weights.set(k, v);
      dtypes.set(k, st.dtypes.get(k)!);
    }
  }
  const ignored: string[] = [];
  if (config.tie_word_embeddings && weights.has('lm_head.weight')) {
    weights.delete('lm_head.weight');
    ignored.push('lm_head.weight');
  }
  for (const k of [...weights.keys()])
    if (/\.rotary_emb\.inv_freq$/.test(k)) {
      weights.delete(k);
      ignored.push(k);
    }
  const extra = checkWeights(config, weights, dir);
  if (extra.length)
    throw new EngineIoError(
      dir,
      `tensors a ${config.model_type} model does not have: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}`,
    );
  const tokJson = readJson(path.join(dir, 'tokenizer.json'), false);
  const tokenizer = tokJson ? loadTokenizer(tokJson, path.join(dir, 'tokenizer.json')) : undefined;
  if (tokenizer && tokenizer.vocabSize > config.vocab_size)
    throw new EngineIoError(
      path.join(dir, 'tokenizer.json'),
      `has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${config.vocab_size}`,
    );
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
  const extra = checkWeights(config, model.weights);
  if (extra.length)
    throw new EngineIoError('saveHfModel', `tensors a ${config.model_type} model does not have: ${extra.slice(0, 5).join(', ')}`);
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
      if (cur > 0 && cur + s > max) {
        shards.push([]);
        cur = 0;
      }
      shards[shards.length - 1].push(n);
      cur += s;
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
  const tc: TokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    clean_up_tokenization_spaces: false,
    model_max_length: config.max_position_embeddings,
    ...model.tokenizerConfig,
  };
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
