/** SmolLM2-135M's shape (random weights) and the workload both peers run in bench/size. */
import type { LlamaConfig } from '../../src/engine/index.ts';

export const SMOL_135M: Partial<LlamaConfig> & {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  vocab_size: number;
} = {
  vocab_size: 49152,
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  max_position_embeddings: 8192,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
};

/** LoRA as tunelab's local fine-tuning defaults (src/finetune/local.ts): rank 8, alpha 16, all seven projections. */
export const LORA = {
  rank: 8,
  alpha: 16,
  dropout: 0,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
};

export const BATCH = 4;
export const SEQ = 256;
export const LR = 1e-4;

/** Deterministic token rows (a small LCG): the same ids for every peer and round. */
export function tokenRows(rows: number, len: number, vocab: number, seed = 7): number[][] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  return Array.from({ length: rows }, () => Array.from({ length: len }, () => 3 + (next() % (vocab - 3))));
}
