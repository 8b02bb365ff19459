// A tiny Llama model in Hugging Face layout, written for tests (tokenizer trained on a small corpus).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createModel, saveHfModel, trainBpe, DEFAULT_CHAT_TEMPLATE } from '../../src/engine/index.ts';

export const TINY_WORDS = [
  'apple',
  'banana',
  'cherry',
  'grape',
  'lemon',
  'mango',
  'peach',
  'plum',
  'hammer',
  'wrench',
  'drill',
  'saw',
  'chisel',
  'pliers',
  'shovel',
  'rake',
];

export function makeTinyModel(dir: string, opts: { hidden?: number; layers?: number; seed?: number } = {}): string {
  if (existsSync(join(dir, 'config.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  const corpus = [
    ...TINY_WORDS.map((w) => `The ${w} is here. Label: fruit tool. Classify the item.`),
    'Answer with one of: fruit, tool. Item: apple fruit hammer tool yes no spam ham',
  ];
  const tok = trainBpe(corpus.join('\n').repeat(3), { vocabSize: 330, specialTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] });
  const h = opts.hidden ?? 32;
  const m = createModel(
    {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: h,
      intermediate_size: h * 2,
      num_hidden_layers: opts.layers ?? 2,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: h / 2,
      vocab_size: tok.vocabSize,
      max_position_embeddings: 128,
      tie_word_embeddings: true,
      rms_norm_eps: 1e-5,
      initializer_range: 0.25,
      rope_theta: 10000,
      bos_token_id: 0,
      eos_token_id: [2, 0],
      pad_token_id: 0,
    } as any,
    { seed: opts.seed ?? 3 },
  );
  saveHfModel(dir, {
    config: m.config,
    weights: m.weights,
    tokenizer: tok,
    tokenizerConfig: {
      chat_template: DEFAULT_CHAT_TEMPLATE,
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
      bos_token: null,
      add_bos_token: false,
    } as any,
    generationConfig: { eos_token_id: [2, 0], max_new_tokens: 16 },
  });
  return dir;
}

/** A toy classification set: an item word → fruit | tool. */
export function toyRecords(words = TINY_WORDS, system = 'Answer with one of: fruit, tool.') {
  return words.map((w, i) => ({
    messages: [
      { role: 'system' as const, content: system },
      { role: 'user' as const, content: `Item: ${w}` },
      { role: 'assistant' as const, content: TINY_WORDS.indexOf(w) % 16 < 8 ? 'fruit' : 'tool' },
    ],
  }));
}
