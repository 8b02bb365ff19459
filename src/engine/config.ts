/**
 * The one config normaliser and the one weight-shape table of the engine (Llama-family layouts: llama, qwen2,
 * qwen3): model building, training, generation, Hugging Face folders and GGUF export all read a config and check
 * weights through here.
 */
import type { LlamaConfig, Weights } from './types.ts';
import { EngineIoError } from './io/errors.ts';

/** The Hugging Face `model_type`s the engine runs: Llama (SmolLM2, Llama 3.x), Qwen2 (Qwen2.5), Qwen3. */
export const SUPPORTED_MODEL_TYPES = ['llama', 'qwen2', 'qwen3'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

const ARCHITECTURE: Record<ModelType, string> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
};

/** rope_scaling kinds ropeInvFreq implements */
const ROPE_KINDS = ['default', 'linear', 'llama3'];

/**
 * Fill the defaults Hugging Face's config classes use and check the fields the engine needs; throws EngineIoError
 * (an InputError) naming `where` and the field. Sets `model_type` (llama when absent) and `head_dim` explicitly
 * (hidden_size / num_attention_heads when absent). Defaults: num_key_value_heads = num_attention_heads,
 * rms_norm_eps 1e-6, rope_theta 10000, max_position_embeddings 2048, tie_word_embeddings false.
 * intermediate_size is required. Layouts: llama (no biases), qwen2 (biases on q/k/v, none on o), qwen3 (RMSNorm
 * over head_dim on q and k per head, before RoPE; no biases). Sliding-window attention and other rope_scaling
 * kinds than linear and llama3 are refused. A transformers-5 `rope_parameters` object is read as rope_theta + rope_scaling.
 */
export function normalizeLlamaConfig(raw: unknown, where = 'config.json'): LlamaConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new EngineIoError(where, 'not an object');
  const r = raw as Record<string, unknown>;
  const arch = r.architectures as string[] | undefined;
  const mt = (r.model_type ?? 'llama') as ModelType;
  if (!(SUPPORTED_MODEL_TYPES as readonly unknown[]).includes(mt))
    throw new EngineIoError(
      where,
      `model_type ${JSON.stringify(r.model_type)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
    );
  if (arch && !arch.includes(ARCHITECTURE[mt]))
    throw new EngineIoError(`${where}: architectures`, `${JSON.stringify(arch)} do not include ${ARCHITECTURE[mt]} (model_type ${mt})`);
  if (r.hidden_act !== undefined && r.hidden_act !== 'silu')
    throw new EngineIoError(`${where}: hidden_act`, `"${String(r.hidden_act)}" is not supported (silu only)`);
  if (r.attention_bias && mt !== 'qwen2')
    throw new EngineIoError(`${where}: attention_bias`, `true is not supported for ${mt} (qwen2's q/k/v biases are)`);
  if (r.mlp_bias) throw new EngineIoError(`${where}: mlp_bias`, 'true is not supported');
  if (r.use_sliding_window) throw new EngineIoError(`${where}: use_sliding_window`, 'sliding-window attention is not supported');
  let ropeTheta = r.rope_theta;
  let ropeScaling = r.rope_scaling;
  const rp = r.rope_parameters as Record<string, unknown> | undefined | null;
  if (rp && typeof rp === 'object') {
    ropeTheta ??= rp.rope_theta;
    const kind = rp.rope_type ?? rp.type;
    if (ropeScaling == null && kind !== undefined && kind !== 'default') ropeScaling = rp;
  }
  if (ropeScaling != null) {
    const rs = ropeScaling as Record<string, unknown>;
    const kind = typeof rs === 'object' ? (rs.rope_type ?? rs.type) : undefined;
    if (typeof kind !== 'string' || !ROPE_KINDS.includes(kind))
      throw new EngineIoError(
        `${where}: rope_scaling`,
        `${JSON.stringify(ropeScaling)} is not supported (rope_type ${ROPE_KINDS.join(', ')})`,
      );
  }
  const c = {
    ...r,
    architectures: arch ?? [ARCHITECTURE[mt]],
    model_type: mt,
    num_key_value_heads: r.num_key_value_heads ?? r.num_attention_heads,
    rms_norm_eps: r.rms_norm_eps ?? 1e-6,
    rope_theta: ropeTheta ?? 10000,
    ...(ropeScaling != null ? { rope_scaling: ropeScaling } : {}),
    max_position_embeddings: r.max_position_embeddings ?? 2048,
    tie_word_embeddings: r.tie_word_embeddings ?? false,
  } as LlamaConfig;
  if (typeof c.rope_theta !== 'number' || !(c.rope_theta > 0))
    throw new EngineIoError(`${where}: rope_theta`, `must be a positive number, got ${JSON.stringify(c.rope_theta)}`);
  for (const k of [
    'hidden_size',
    'intermediate_size',
    'num_hidden_layers',
    'num_attention_heads',
    'num_key_value_heads',
    'vocab_size',
    'max_position_embeddings',
  ] as const) {
    if (!Number.isInteger(c[k]) || (c[k] as number) <= 0)
      throw new EngineIoError(`${where}: ${k}`, `must be a positive integer, got ${JSON.stringify(r[k])}`);
  }
  if (c.num_attention_heads % c.num_key_value_heads !== 0)
    throw new EngineIoError(
      `${where}: num_key_value_heads`,
      `${c.num_key_value_heads} does not divide num_attention_heads ${c.num_attention_heads}`,
    );
  if (c.head_dim === undefined || c.head_dim === null) {
    if (c.hidden_size % c.num_attention_heads !== 0)
      throw new EngineIoError(`${where}: hidden_size`, 'not divisible by num_attention_heads and no head_dim given');
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (!Number.isInteger(c.head_dim) || c.head_dim % 2 !== 0)
    throw new EngineIoError(`${where}: head_dim`, `must be an even integer (got ${c.head_dim})`);
  return c;
}

/** The model_type of a (normalised or raw) config; llama when absent. */
export function modelType(cfg: LlamaConfig): ModelType {
  return (cfg.model_type ?? 'llama') as ModelType;
}

/** Qwen2: q/k/v projections carry biases (o does not). */
export function hasQkvBias(cfg: LlamaConfig): boolean {
  return modelType(cfg) === 'qwen2';
}

/** Qwen3: RMSNorm over head_dim on each head of q and k (weights q_norm/k_norm [head_dim]), before RoPE. */
export function hasQkNorm(cfg: LlamaConfig): boolean {
  return modelType(cfg) === 'qwen3';
}

/** HF `rope_scaling` fields tunelab reads (linear and llama3). */
export interface RopeScaling {
  rope_type?: string;
  type?: string;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

/** The config's rope_scaling kind ('linear', 'llama3', ...), undefined for none or 'default'. */
export function ropeScalingKind(cfg: LlamaConfig): string | undefined {
  const rs = cfg.rope_scaling as RopeScaling | null | undefined;
  const kind = rs ? (rs.rope_type ?? rs.type) : undefined;
  return kind === 'default' ? undefined : kind;
}

/**
 * llama3 rope scaling: the factor a rotary frequency of wavelength `wave` is divided by (1 for short wavelengths,
 * `factor` for long ones, smoothly in between). The engine applies it to inv_freq; GGUF stores it as rope_freqs.
 */
export function llama3FreqFactor(rs: RopeScaling, wave: number): number {
  const factor = rs.factor ?? 8,
    lo = rs.low_freq_factor ?? 1,
    hi = rs.high_freq_factor ?? 4,
    old = rs.original_max_position_embeddings ?? 8192;
  if (wave < old / hi) return 1;
  if (wave > old / lo) return factor;
  const smooth = (old / wave - lo) / (hi - lo);
  return 1 / ((1 - smooth) / factor + smooth);
}

export function headDim(cfg: LlamaConfig): number {
  return cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
}

/**
 * Parameter names (HF) and shapes ([out, in] for linear layers), in a fixed order; lm_head only when not tied;
 * q/k/v biases for qwen2, q_norm/k_norm for qwen3.
 */
export function paramShapes(cfg: LlamaConfig): [string, number[]][] {
  const D = cfg.hidden_size,
    I = cfg.intermediate_size,
    hd = headDim(cfg);
  const H = cfg.num_attention_heads,
    KV = cfg.num_key_value_heads,
    V = cfg.vocab_size;
  const out: [string, number[]][] = [['model.embed_tokens.weight', [V, D]]];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      [`${p}.input_layernorm.weight`, [D]],
      [`${p}.self_attn.q_proj.weight`, [H * hd, D]],
      [`${p}.self_attn.k_proj.weight`, [KV * hd, D]],
      [`${p}.self_attn.v_proj.weight`, [KV * hd, D]],
      [`${p}.self_attn.o_proj.weight`, [D, H * hd]],
    );
    if (hasQkvBias(cfg))
      out.push(
        [`${p}.self_attn.q_proj.bias`, [H * hd]],
        [`${p}.self_attn.k_proj.bias`, [KV * hd]],
        [`${p}.self_attn.v_proj.bias`, [KV * hd]],
      );
    if (hasQkNorm(cfg)) out.push([`${p}.self_attn.q_norm.weight`, [hd]], [`${p}.self_attn.k_norm.weight`, [hd]]);
    out.push(
      [`${p}.post_attention_layernorm.weight`, [D]],
      [`${p}.mlp.gate_proj.weight`, [I, D]],
      [`${p}.mlp.up_proj.weight`, [I, D]],
      [`${p}.mlp.down_proj.weight`, [D, I]],
    );
  }
  out.push(['model.norm.weight', [D]]);
  if (!cfg.tie_word_embeddings) out.push(['lm_head.weight', [V, D]]);
  return out;
}

export function countParams(cfg: LlamaConfig): number {
  return paramShapes(cfg).reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);
}

/**
 * Check weights against a config: every expected tensor present with its exact shape (throws EngineIoError naming
 * `where` and the tensor). Returns the names present that the config does not expect.
 */
export function checkWeights(cfg: LlamaConfig, weights: Weights, where = 'weights'): string[] {
  const expected = new Set<string>();
  for (const [name, shape] of paramShapes(cfg)) {
    expected.add(name);
    const t = weights.get(name);
    if (!t) throw new EngineIoError(where, `tensor ${name} is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new EngineIoError(where, `tensor ${name} has shape [${t.shape}], config says [${shape}]`);
    if (t.data.length !== shape.reduce((a, b) => a * b, 1))
      throw new EngineIoError(where, `tensor ${name} has ${t.data.length} elements, want [${shape}]`);
  }
  return [...weights.keys()].filter((k) => !expected.has(k));
}
