/**
 * PEFT LoRA adapters: adapter_config.json + adapter_model.safetensors with PEFT's key names
 * (base_model.model.<module>.lora_A.weight [r, in], ...lora_B.weight [out, r]); merging into base weights.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostTensor, LoraAdapter, Weights } from '../types.ts';
import { EngineIoError } from './errors.ts';
import { type FloatDtype, readSafetensors, writeFileAtomic, writeSafetensors } from './safetensors.ts';

export interface PeftAdapterConfig {
  peft_type: 'LORA';
  task_type: string;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  base_model_name_or_path: string | null;
  bias: string;
  fan_in_fan_out: boolean;
  inference_mode: boolean;
  use_rslora: boolean;
  use_dora: boolean;
  [extra: string]: unknown;
}

const PREFIX = 'base_model.model.';

/** PEFT key names of an adapter's tensors (without the adapter name, as PEFT saves them). */
export function peftKeys(module: string): { A: string; B: string } {
  return { A: `${PREFIX}${module}.lora_A.weight`, B: `${PREFIX}${module}.lora_B.weight` };
}

export interface SavePeftOptions {
  baseModelNameOrPath?: string | null;
  /** dtype of adapter_model.safetensors (default F32) */
  dtype?: FloatDtype;
}

export function savePeftAdapter(dir: string, adapter: LoraAdapter, options: SavePeftOptions = {}): void {
  checkAdapter(adapter, 'savePeftAdapter');
  const tensors = new Map<string, HostTensor>();
  for (const [mod, { A, B }] of adapter.weights) {
    const k = peftKeys(mod);
    tensors.set(k.A, A);
    tensors.set(k.B, B);
  }
  const config: PeftAdapterConfig = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: options.baseModelNameOrPath ?? null,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: adapter.alpha,
    lora_dropout: adapter.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: adapter.rank,
    rank_pattern: {},
    revision: null,
    target_modules: adapter.targetModules.slice(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors, { dtype: options.dtype ?? 'F32', metadata: { format: 'pt' } });
  writeFileAtomic(path.join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2) + '\n');
}

export interface LoadedPeftAdapter {
  adapter: LoraAdapter;
  config: PeftAdapterConfig;
}

/**
 * Read a PEFT LoRA adapter folder. Keys with an adapter name (`.lora_A.default.weight`) are accepted.
 * An rsLoRA adapter (scale alpha/sqrt(r)) is returned with alpha scaled so that alpha/r gives the same scale.
 */
export function loadPeftAdapter(dir: string): LoadedPeftAdapter {
  const cfgFile = path.join(dir, 'adapter_config.json');
  if (!fs.existsSync(cfgFile)) throw new EngineIoError(cfgFile, 'missing');
  let config: PeftAdapterConfig;
  try {
    config = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  } catch (e) {
    throw new EngineIoError(cfgFile, `bad JSON: ${(e as Error).message}`);
  }
  if (config.peft_type !== 'LORA') throw new EngineIoError(`${cfgFile}: peft_type`, `"${config.peft_type}" is not supported (LORA only)`);
  if (!Number.isInteger(config.r) || config.r <= 0) throw new EngineIoError(`${cfgFile}: r`, 'must be a positive integer');
  if (typeof config.lora_alpha !== 'number') throw new EngineIoError(`${cfgFile}: lora_alpha`, 'must be a number');
  if (config.use_dora) throw new EngineIoError(`${cfgFile}: use_dora`, 'DoRA adapters are not supported');
  if (config.bias && config.bias !== 'none') throw new EngineIoError(`${cfgFile}: bias`, `"${config.bias}" is not supported (none only)`);
  if (config.fan_in_fan_out) throw new EngineIoError(`${cfgFile}: fan_in_fan_out`, 'not supported for Llama');
  for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
    const v = config[k] as Record<string, unknown> | undefined;
    if (v && Object.keys(v).length) throw new EngineIoError(`${cfgFile}: ${k}`, 'per-module ranks/alphas are not supported');
  }
  const stFile = path.join(dir, 'adapter_model.safetensors');
  if (!fs.existsSync(stFile)) {
    if (fs.existsSync(path.join(dir, 'adapter_model.bin')))
      throw new EngineIoError(dir, 'only adapter_model.bin found: tunelab reads adapter_model.safetensors');
    throw new EngineIoError(stFile, 'missing');
  }
  const st = readSafetensors(stFile);
  const parts = new Map<string, { A?: HostTensor; B?: HostTensor }>();
  for (const [key, t] of st.tensors) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/.exec(key);
    if (!m) throw new EngineIoError(stFile, `unexpected tensor ${key} (only lora_A / lora_B weights are supported)`);
    const p = parts.get(m[1]) ?? {};
    p[m[2] as 'A' | 'B'] = t;
    parts.set(m[1], p);
  }
  const weights = new Map<string, { A: HostTensor; B: HostTensor }>();
  for (const [mod, p] of parts) {
    if (!p.A || !p.B) throw new EngineIoError(stFile, `module ${mod} lacks lora_${p.A ? 'B' : 'A'}`);
    weights.set(mod, { A: p.A, B: p.B });
  }
  const target = Array.isArray(config.target_modules)
    ? config.target_modules
    : typeof config.target_modules === 'string'
      ? [config.target_modules]
      : [];
  const alpha = config.use_rslora ? config.lora_alpha * Math.sqrt(config.r) : config.lora_alpha;
  const adapter: LoraAdapter = { rank: config.r, alpha, dropout: config.lora_dropout ?? 0, targetModules: target, weights };
  checkAdapter(adapter, stFile);
  return { adapter, config };
}

function checkAdapter(adapter: LoraAdapter, where: string) {
  for (const [mod, { A, B }] of adapter.weights) {
    if (A.shape.length !== 2 || B.shape.length !== 2) throw new EngineIoError(where, `${mod}: lora_A and lora_B must be matrices`);
    if (A.shape[0] !== adapter.rank || B.shape[1] !== adapter.rank)
      throw new EngineIoError(where, `${mod}: lora_A [${A.shape}] / lora_B [${B.shape}] do not have rank ${adapter.rank}`);
  }
}

/**
 * W' = W + (alpha / r) * B A for every adapted module. Pure: returns a new map; tensors the adapter does
 * not touch are the same objects as in `base`, adapted ones are fresh arrays.
 */
export function mergeLora(base: Weights, adapter: LoraAdapter): Weights {
  const out: Weights = new Map(base);
  const scale = adapter.alpha / adapter.rank;
  const r = adapter.rank;
  for (const [mod, { A, B }] of adapter.weights) {
    const name = `${mod}.weight`;
    const W = base.get(name);
    if (!W) throw new EngineIoError('mergeLora', `base weights have no ${name}`);
    const [o, i] = W.shape;
    if (B.shape[0] !== o || A.shape[1] !== i)
      throw new EngineIoError('mergeLora', `${mod}: W [${W.shape}] does not match B [${B.shape}] x A [${A.shape}]`);
    const data = new Float32Array(W.data);
    const row = new Float64Array(i);
    for (let y = 0; y < o; y++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const b = B.data[y * r + k];
        if (b === 0) continue;
        const off = k * i;
        for (let x = 0; x < i; x++) row[x] += b * A.data[off + x];
      }
      const off = y * i;
      for (let x = 0; x < i; x++) data[off + x] = W.data[off + x] + scale * row[x];
    }
    out.set(name, { shape: W.shape.slice(), data });
  }
  return out;
}
