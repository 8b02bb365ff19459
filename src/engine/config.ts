/**
 * The one Llama config normaliser and the one weight-shape table of the engine: model building, training,
 * generation, Hugging Face folders and GGUF export all read a config and check weights through here.
 */
import type { LlamaConfig, Weights } from './types.ts';
import { EngineIoError } from './io/errors.ts';

/**
 * Fill the defaults Hugging Face's LlamaConfig uses and check the fields the engine needs; throws EngineIoError
 * naming `where` and the field. Sets `head_dim` explicitly (hidden_size / num_attention_heads when absent).
 * Defaults: num_key_value_heads = num_attention_heads, rms_norm_eps 1e-6, rope_theta 10000,
 * max_position_embeddings 2048, tie_word_embeddings false. intermediate_size is required.
 */
export function normalizeLlamaConfig(raw: unknown, where = 'config.json'): LlamaConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new EngineIoError(where, 'not an object');
  const r = raw as Record<string, unknown>;
  const arch = r.architectures as string[] | undefined;
  if (r.model_type !== undefined && r.model_type !== 'llama')
    throw new EngineIoError(where, `model_type "${String(r.model_type)}" is not supported (llama only)`);
  if (arch && !arch.includes('LlamaForCausalLM'))
    throw new EngineIoError(where, `architectures ${JSON.stringify(arch)} do not include LlamaForCausalLM`);
  if (r.hidden_act !== undefined && r.hidden_act !== 'silu')
    throw new EngineIoError(where, `hidden_act "${String(r.hidden_act)}" is not supported (silu only)`);
  if (r.attention_bias) throw new EngineIoError(where, 'attention_bias is not supported');
  if (r.mlp_bias) throw new EngineIoError(where, 'mlp_bias is not supported');
  const c = {
    ...r,
    architectures: arch ?? ['LlamaForCausalLM'],
    model_type: 'llama',
    num_key_value_heads: r.num_key_value_heads ?? r.num_attention_heads,
    rms_norm_eps: r.rms_norm_eps ?? 1e-6,
    rope_theta: r.rope_theta ?? 10000,
    max_position_embeddings: r.max_position_embeddings ?? 2048,
    tie_word_embeddings: r.tie_word_embeddings ?? false,
  } as LlamaConfig;
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

export function headDim(cfg: LlamaConfig): number {
  return cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
}

/** Parameter names (HF) and shapes ([out, in] for linear layers), in a fixed order; lm_head only when not tied. */
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
