// `tunelab pretrain <recipe>`: builds the corpus and instruction mixture, trains the tokenizer and a small
// Llama model from scratch with the engine, logs every step, evaluates, and writes a Hugging Face folder
// with run.json (the figures) and MODEL_CARD.md generated from them.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import YAML from 'yaml';
import {
  createModel,
  train,
  trainBpe,
  saveHfModel,
  countParams,
  chatTemplateSpans,
  applyChatTemplate,
  DEFAULT_CHAT_TEMPLATE,
  Generator,
  loadHfModel,
  type TrainExample,
  type BpeTokenizer,
  type LlamaModel,
} from '../../engine/index.ts';
import type { ChatMessage } from '../../models/types.ts';
import { InputError } from '../../core/index.ts';
import { SOURCES, brownDocs, chunkText, mobyDickDocs, sotuDocs, wordnetDocs, wordnetGlosses, type Doc } from './corpus.ts';
import { Rand, classificationProbes, instructionMixture, type Sources } from './instruct.ts';
import { writeModelCard } from './card.ts';

export interface Recipe {
  name: string;
  seed: number;
  output: string;
  tokenizer: { vocab_size: number; special_tokens: string[]; sample_chars: number };
  model: {
    hidden_size: number;
    intermediate_size: number;
    num_hidden_layers: number;
    num_attention_heads: number;
    num_key_value_heads: number;
    max_position_embeddings: number;
    rope_theta: number;
    rms_norm_eps: number;
    tie_word_embeddings: boolean;
  };
  data: { chunk_chars: number; text_sources: string[]; instructions: number; instruction_share: number; valid_fraction: number };
  train: {
    seq_len: number;
    batch_size: number;
    steps: number;
    lr: number;
    warmup_steps: number;
    schedule: 'cosine' | 'linear' | 'constant';
    min_lr_ratio: number;
    weight_decay: number;
    eval_every: number;
    valid_rows: number;
    checkpoint_every: number;
    max_minutes: number;
  };
  save: { dtype: 'F16' | 'F32' | 'BF16' };
  eval: { probes_per_task: number };
}

export function loadRecipe(file: string): Recipe {
  if (!existsSync(file)) throw new InputError(file, 'recipe not found');
  const r = YAML.parse(readFileSync(file, 'utf8')) as Recipe;
  for (const k of ['name', 'seed', 'output', 'tokenizer', 'model', 'data', 'train', 'save', 'eval'] as const) {
    if (r?.[k] === undefined) throw new InputError(`${file}: ${k}`, 'missing');
  }
  return r;
}

export interface PretrainOptions {
  /** override the output folder */
  out?: string;
  /** override train.steps (e.g. a quick smoke run) */
  steps?: number;
  /** override data sizes for smoke runs */
  small?: boolean;
  log?: (line: string) => void;
  /** start over instead of resuming from the checkpoint in <out>/.pretrain */
  fresh?: boolean;
}

const em = (m: ChatMessage[]) => m.map((x) => ({ role: x.role, content: x.content }));
const SPECIAL = { eos: '<|endoftext|>', start: '<|im_start|>', end: '<|im_end|>' };

function chatToExample(tok: BpeTokenizer, msgs: ChatMessage[]): TrainExample {
  const { text, assistantSpans } = chatTemplateSpans(em(msgs), { chatTemplate: DEFAULT_CHAT_TEMPLATE });
  const ids: number[] = [];
  const mask: number[] = [];
  let pos = 0;
  for (const [a, b] of assistantSpans) {
    const pre = tok.encode(text.slice(pos, a), { addSpecialTokens: false });
    ids.push(...pre);
    mask.push(...pre.map(() => 0));
    const ans = tok.encode(text.slice(a, b), { addSpecialTokens: false });
    ids.push(...ans);
    mask.push(...ans.map(() => 1));
    pos = b;
  }
  if (pos < text.length) {
    const rest = tok.encode(text.slice(pos), { addSpecialTokens: false });
    ids.push(...rest);
    mask.push(...rest.map(() => 0));
  }
  return { ids, mask };
}

/** Pack items into rows of at most `T` tokens (text is split across rows; conversations are kept whole or dropped). */
function pack(items: { ids: number[]; mask: number[]; splittable: boolean }[], T: number): TrainExample[] {
  const rows: TrainExample[] = [];
  let ids: number[] = [];
  let mask: number[] = [];
  const flush = () => {
    if (ids.length > 8 && mask.some((m) => m)) rows.push({ ids, mask });
    ids = [];
    mask = [];
  };
  for (const it of items) {
    if (!it.splittable) {
      if (it.ids.length > T) continue;
      if (ids.length + it.ids.length > T) flush();
      ids.push(...it.ids);
      mask.push(...it.mask);
      continue;
    }
    let k = 0;
    while (k < it.ids.length) {
      const room = T - ids.length;
      if (room < 16) {
        flush();
        continue;
      }
      const take = Math.min(room, it.ids.length - k);
      ids.push(...it.ids.slice(k, k + take));
      mask.push(...it.mask.slice(k, k + take));
      k += take;
      if (ids.length >= T) flush();
    }
  }
  flush();
  return rows;
}

export interface PretrainResult {
  outDir: string;
  summary: Record<string, unknown>;
}

export async function pretrain(recipeFile: string, opts: PretrainOptions = {}): Promise<PretrainResult> {
  const recipe = loadRecipe(recipeFile);
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const t0 = Date.now();
  const outDir = resolve(opts.out ?? recipe.output);
  // scratch (checkpoint, tokenizer, step log) lives under .tunelab/ (git-ignored), not in the shipped folder
  const work = resolve('.tunelab', 'pretrain', recipe.name + (opts.small ? '-small' : ''));
  if (opts.fresh) rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const logFile = join(work, 'train_log.jsonl');
  const writeLog = (o: Record<string, unknown>) => appendFileSync(logFile, JSON.stringify({ t: Date.now(), ...o }) + '\n');
  const threads = cpus().length;
  const seed = recipe.seed;
  const small = !!opts.small;

  // 1. sources
  log('pretrain: loading corpora');
  const glosses = wordnetGlosses();
  const src: Sources = { glosses, brown: brownDocs(), sotu: sotuDocs(), moby: mobyDickDocs() };
  const textDocs: Doc[] = [];
  const want = new Set(recipe.data.text_sources);
  if (want.has('sotu')) textDocs.push(...src.sotu);
  if (want.has('moby-dick')) textDocs.push(...src.moby);
  if (want.has('brown')) textDocs.push(...src.brown);
  if (want.has('wordnet')) textDocs.push(...wordnetDocs(glosses, 12));
  const rng = new Rand(seed);
  const chunks: { source: string; text: string }[] = [];
  for (const d of textDocs) for (const c of chunkText(d.text, recipe.data.chunk_chars)) chunks.push({ source: d.source, text: c });
  rng.shuffleInPlace(chunks);
  const nInstr = small ? 600 : recipe.data.instructions;
  const convs = instructionMixture(src, nInstr, seed + 1);
  const vf = recipe.data.valid_fraction;
  const nValC = Math.max(4, Math.round(chunks.length * vf));
  const nValI = Math.max(4, Math.round(convs.length * vf));
  const valChunks = chunks.slice(0, nValC),
    trainChunks = chunks.slice(nValC);
  const valConvs = convs.slice(0, nValI),
    trainConvs = convs.slice(nValI);
  const charsBySource: Record<string, number> = {};
  for (const c of trainChunks) charsBySource[c.source] = (charsBySource[c.source] ?? 0) + c.text.length;
  log(`pretrain: ${trainChunks.length} text chunks, ${trainConvs.length} conversations (+ ${nValC} / ${nValI} held out)`);

  // 2. tokenizer
  const tokPath = join(work, 'tokenizer.json');
  let tok: BpeTokenizer;
  const { loadTokenizer } = await import('../../engine/index.ts');
  if (existsSync(tokPath)) tok = loadTokenizer(JSON.parse(readFileSync(tokPath, 'utf8')));
  else {
    const sample: string[] = [];
    let n = 0;
    const budget = small ? 200_000 : recipe.tokenizer.sample_chars;
    for (let i = 0; n < budget * 0.7 && i < trainChunks.length; i++) {
      sample.push(trainChunks[i].text);
      n += trainChunks[i].text.length;
    }
    for (let i = 0; n < budget && i < trainConvs.length; i++) {
      const t = applyChatTemplate(em(trainConvs[i]), { chatTemplate: DEFAULT_CHAT_TEMPLATE });
      sample.push(t);
      n += t.length;
    }
    const tt = Date.now();
    tok = trainBpe(sample, { vocabSize: small ? 600 : recipe.tokenizer.vocab_size, specialTokens: recipe.tokenizer.special_tokens });
    writeFileSync(tokPath, JSON.stringify(tok.toJSON()));
    log(`pretrain: tokenizer ${tok.vocabSize} tokens trained on ${n} chars in ${((Date.now() - tt) / 1000).toFixed(1)} s`);
  }
  const id = (s: string) => {
    const v = tok.tokenId(s);
    if (v === undefined) throw new Error(`tokenizer lacks ${s}`);
    return v;
  };
  const eos = id(SPECIAL.eos),
    imEnd = id(SPECIAL.end);

  // 3. rows
  const T = recipe.train.seq_len;
  const textItem = (c: { text: string }) => {
    const ids = [...tok.encode(c.text, { addSpecialTokens: false }), eos];
    return { ids, mask: ids.map(() => 1), splittable: true };
  };
  const convItem = (m: ChatMessage[]) => {
    const e = chatToExample(tok, m);
    return { ids: e.ids, mask: e.mask!, splittable: false };
  };
  const tr = Date.now();
  const steps = opts.steps ?? recipe.train.steps;
  const rowsNeeded = Math.ceil(steps * recipe.train.batch_size * 1.05);
  const share = recipe.data.instruction_share;
  // draw text chunks and conversations until each side has its share of rows
  const build = (items: { ids: number[]; mask: number[]; splittable: boolean }[]) => pack(items, T);
  const textItems: ReturnType<typeof textItem>[] = [];
  let textTokens = 0;
  const wantText = Math.ceil(rowsNeeded * (1 - share)) * T;
  for (const c of trainChunks) {
    if (textTokens >= wantText) break;
    const it = textItem(c);
    textItems.push(it);
    textTokens += it.ids.length;
  }
  const convItems: ReturnType<typeof convItem>[] = [];
  let convTokens = 0;
  const wantConv = Math.ceil(rowsNeeded * share) * T * 0.92;
  for (const m of trainConvs) {
    if (convTokens >= wantConv) break;
    const it = convItem(m);
    convItems.push(it);
    convTokens += it.ids.length;
  }
  const rows = [...build(textItems), ...build(convItems)];
  const valRows = [
    ...build(valChunks.map(textItem)).slice(0, Math.ceil(recipe.train.valid_rows / 2)),
    ...build(valConvs.map(convItem)).slice(0, Math.floor(recipe.train.valid_rows / 2)),
  ];
  const trainTargetTokens = rows.reduce((a, r) => a + r.mask!.reduce((x, y) => x + y, 0), 0);
  log(
    `pretrain: ${rows.length} rows of <= ${T} tokens (${textItems.length} chunks, ${convItems.length} conversations; ${trainTargetTokens} target tokens), ${valRows.length} validation rows, in ${((Date.now() - tr) / 1000).toFixed(1)} s`,
  );

  // 4. model
  const cfg = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    ...recipe.model,
    vocab_size: tok.vocabSize,
    head_dim: recipe.model.hidden_size / recipe.model.num_attention_heads,
    bos_token_id: eos,
    eos_token_id: [imEnd, eos],
    pad_token_id: eos,
    ...(small
      ? { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 32 }
      : {}),
  };
  const model: LlamaModel = createModel(cfg as any, { seed });
  const params = countParams(model.config);
  log(`pretrain: model ${params} parameters; ${steps} steps of ${recipe.train.batch_size} x ${T}`);
  writeLog({ event: 'start', recipe, params, rows: rows.length, valRows: valRows.length, threads, small });

  // 5. train
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), recipe.train.max_minutes * 60_000);
  let lastLog = 0;
  const res = await train(
    model,
    rows,
    {
      lr: recipe.train.lr,
      warmupSteps: recipe.train.warmup_steps,
      schedule: recipe.train.schedule,
      minLrRatio: recipe.train.min_lr_ratio,
      weightDecay: recipe.train.weight_decay,
      beta2: 0.95,
      seed,
      maxSeqLen: T,
      padId: eos,
      batchSize: recipe.train.batch_size,
      maxSteps: steps,
      epochs: 100,
      valRecords: valRows,
      evalEvery: recipe.train.eval_every,
      restoreBest: false,
      checkpointDir: work,
      checkpointEvery: recipe.train.checkpoint_every,
      signal: ac.signal,
    },
    (p) => {
      writeLog({
        event: 'step',
        step: p.step,
        loss: p.loss,
        valLoss: p.valLoss,
        lr: p.lr,
        gradNorm: p.gradNorm,
        tokensPerSec: p.tokensPerSec,
        elapsedMs: p.elapsedMs,
      });
      if (p.valLoss !== undefined || Date.now() - lastLog > 30_000 || p.step === p.totalSteps) {
        lastLog = Date.now();
        log(
          `step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)}${p.valLoss !== undefined ? ` val ${p.valLoss.toFixed(3)}` : ''} lr ${p.lr.toExponential(2)} ${p.tokensPerSec.toFixed(0)} tok/s eta ${(p.etaMs / 60000).toFixed(1)} min`,
        );
      }
    },
  );
  clearTimeout(timer);
  const tail = res.losses.slice(-20);
  const finalTrain = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
  const finalVal = res.valLosses.at(-1)?.loss;
  writeLog({ event: 'end', steps: res.steps, aborted: res.aborted, finalTrain, finalVal, elapsedMs: res.elapsedMs });

  // 6. save
  const tokenizerConfig = {
    chat_template: DEFAULT_CHAT_TEMPLATE,
    bos_token: null,
    eos_token: SPECIAL.end,
    pad_token: SPECIAL.eos,
    unk_token: null,
    add_bos_token: false,
    add_eos_token: false,
    model_max_length: model.config.max_position_embeddings,
  };
  saveHfModel(
    outDir,
    {
      config: model.config,
      weights: model.weights,
      tokenizer: tok,
      tokenizerConfig: tokenizerConfig as any,
      generationConfig: { eos_token_id: [imEnd, eos], pad_token_id: eos, do_sample: false, max_new_tokens: 64 },
    },
    { dtype: recipe.save.dtype },
  );

  // 7. measure what it can do (held-out probes, from another seed), on the saved (rounded) weights
  log('pretrain: evaluating');
  const saved = loadHfModel(outDir);
  const gen = new Generator({ config: saved.config, weights: saved.weights });
  const probes = classificationProbes(src, small ? 2 : recipe.eval.probes_per_task, seed + 99);
  const byTask: Record<string, { n: number; correct: number; chance: number }> = {};
  for (const p of probes) {
    const prompt = tok
      .encode(applyChatTemplate(em(p.messages), { chatTemplate: DEFAULT_CHAT_TEMPLATE, addGenerationPrompt: true }), {
        addSpecialTokens: false,
      })
      .slice(-(model.config.max_position_embeddings - 16));
    const cands = p.labels.map((l) => [...tok.encode(l, { addSpecialTokens: false }), imEnd]);
    const [scores] = await gen.scoreCandidates([prompt], cands);
    const best = scores.reduce((bi, s, i) => (s.logprob > scores[bi].logprob ? i : bi), 0);
    const b = (byTask[p.task] ??= { n: 0, correct: 0, chance: 0 });
    b.n++;
    b.correct += p.labels[best] === p.answer ? 1 : 0;
    b.chance += 1 / p.labels.length;
  }
  const samples: { prompt: string; output: string }[] = [];
  for (const q of [
    'What is 12 + 7?',
    'Define the word "harbor".',
    'Convert to upper case: the ship sailed at dawn.',
    'Give a synonym of "big".',
  ]) {
    const ids = tok.encode(
      applyChatTemplate([{ role: 'user', content: q }], { chatTemplate: DEFAULT_CHAT_TEMPLATE, addGenerationPrompt: true }),
      { addSpecialTokens: false },
    );
    const [g] = await gen.generate([ids], { maxTokens: 24, tokenizer: tok, eosTokenId: [imEnd, eos] });
    samples.push({ prompt: q, output: g.text ?? tok.decode(g.tokens) });
  }
  const rowsTokens = res.steps * recipe.train.batch_size * T;
  const summary = {
    name: recipe.name,
    recipe: recipeFile,
    seed,
    params,
    config: model.config,
    vocab: tok.vocabSize,
    data: {
      sources: Object.fromEntries(
        Object.entries(SOURCES)
          .filter(([k]) => want.has(k))
          .map(([k, v]) => [k, { ...v, trainChars: charsBySource[k] ?? 0 }]),
      ),
      textChunksUsed: textItems.length,
      conversationsUsed: convItems.length,
      trainRows: rows.length,
      validRows: valRows.length,
    },
    train: {
      steps: res.steps,
      plannedSteps: steps,
      batch: recipe.train.batch_size,
      seqLen: T,
      aborted: res.aborted,
      tokensSeen: Math.round((res.tokensPerSec * res.elapsedMs) / 1000),
      tokensFedApprox: rowsTokens,
      finalTrainLoss: finalTrain,
      finalValLoss: finalVal,
      valLosses: res.valLosses,
      tokensPerSec: res.tokensPerSec,
      wallSeconds: res.elapsedMs / 1000,
      msPerStep: res.msPerStep,
      threads,
    },
    eval: { classification: byTask, samples },
    totalWallSeconds: (Date.now() - t0) / 1000,
    finishedAt: new Date().toISOString(),
  };
  copyFileSync(logFile, join(outDir, 'train_log.jsonl'));
  writeFileSync(join(outDir, 'run.json'), JSON.stringify(summary, null, 2) + '\n');
  writeModelCard(outDir, summary);
  log(
    `pretrain: done in ${summary.totalWallSeconds.toFixed(0)} s; final train loss ${finalTrain.toFixed(3)}, val ${finalVal?.toFixed(3)}; wrote ${outDir}`,
  );
  return { outDir, summary };
}
