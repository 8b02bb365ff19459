/** Llama-family config (model_type llama, qwen2, qwen3), with the field names of Hugging Face's config.json. */
export interface LlamaConfig {
  architectures?: string[];
  model_type?: string;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim?: number;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number;
  vocab_size: number;
  tie_word_embeddings: boolean;
  bos_token_id?: number;
  eos_token_id?: number | number[];
  pad_token_id?: number;
  torch_dtype?: string;
  [extra: string]: unknown;
}

/** A host tensor. Weights use Hugging Face names and layouts (nn.Linear weights are [out, in]). */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Model weights keyed by Hugging Face tensor names:
 * model.embed_tokens.weight, model.layers.{i}.self_attn.{q,k,v,o}_proj.weight,
 * model.layers.{i}.mlp.{gate,up,down}_proj.weight, model.layers.{i}.{input,post_attention}_layernorm.weight,
 * model.norm.weight, lm_head.weight (absent when tie_word_embeddings); qwen2 adds model.layers.{i}.self_attn.{q,k,v}_proj.bias,
 * qwen3 model.layers.{i}.self_attn.{q,k}_norm.weight ([head_dim]). config.ts's paramShapes is the full list.
 */
export type Weights = Map<string, HostTensor>;

/** LoRA adapter weights keyed by the base module name (e.g. model.layers.0.self_attn.q_proj): A is [r, in], B is [out, r]. */
export interface LoraAdapter {
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: string[];
  weights: Map<string, { A: HostTensor; B: HostTensor }>;
}

export interface Tokenizer {
  readonly vocabSize: number;
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  /** id of a special token such as "<|im_start|>", or undefined */
  tokenId(token: string): number | undefined;
  readonly specialTokens: string[];
  /** Hugging Face tokenizer.json as an object */
  toJSON(): unknown;
}
