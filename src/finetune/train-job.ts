// One local fine-tuning run: chat records → masked token sequences (loss on assistant turns) → engine
// training (LoRA or full, dev records for validation and early stopping) → a merged Hugging Face folder
// plus the PEFT adapter. Runs inside the training worker (worker.ts) or, for tests, in-thread.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyChatTemplate,
  chatTemplateOf,
  chatTemplateSpans,
  loadHfModel,
  mergeLora,
  saveHfModel,
  savePeftAdapter,
  train,
  type BpeTokenizer,
  type LlamaModel,
  type TrainExample,
  type TokenizerConfig,
} from '../engine/index.ts';
import type { TrainingRecord, TrainSummary } from './types.ts';

export interface TrainJobSpec {
  baseDir: string;
  /** id the base was named by (recorded in the adapter config) */
  baseId: string;
  method: 'lora' | 'full';
  epochs: number;
  learningRate: number;
  batchSize: number;
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: string[];
  seed: number;
  outputDir: string;
  maxSteps?: number;
  /** longest sequence trained on (default: the model's context) */
  maxSeqLen?: number;
  patience?: number;
  records: TrainingRecord[];
  /** class-balanced sampling: the class of each record (same length as records); absent: plain epochs */
  groups?: string[];
  /** warmup steps (default: a tenth of the steps, at most 10) */
  warmupSteps?: number;
  /** optimizer steps between validations (default: a quarter of the steps, at most one epoch) */
  evalEvery?: number;
  validation?: TrainingRecord[];
  /** resumable checkpoints here (continued from when present) */
  checkpointDir?: string;
  checkpointEvery?: number;
}

export type TrainJobEvent =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string; data?: Record<string, number> }
  | {
      type: 'progress';
      step: number;
      totalSteps: number;
      loss: number;
      valLoss?: number;
      tokensPerSec: number;
      etaSec: number;
      elapsedSec: number;
      trainedTokens: number;
    }
  | { type: 'done'; summary: TrainSummary }
  | { type: 'error'; message: string }
  | { type: 'cancelled' };

export type { TrainSummary };

function toExample(tok: BpeTokenizer, tc: TokenizerConfig, template: string, rec: TrainingRecord): TrainExample {
  const msgs = rec.messages.map((m) => ({ role: m.role, content: m.content }));
  const { text, assistantSpans } = chatTemplateSpans(msgs, { chatTemplate: template, tokenizerConfig: tc });
  const ids: number[] = [];
  const mask: number[] = [];
  let pos = 0;
  const push = (s: string, m: number) => {
    if (!s) return;
    const t = tok.encode(s, { addSpecialTokens: false });
    ids.push(...t);
    for (const _ of t) mask.push(m);
  };
  for (const [a, b] of assistantSpans) {
    push(text.slice(pos, a), 0);
    push(text.slice(a, b), 1);
    pos = b;
  }
  push(text.slice(pos), 0);
  return { ids, mask };
}

/** Keep the end of over-long examples (the answer) but also the start of the prompt (the instruction). */
function fit(e: TrainExample, max: number): TrainExample {
  if (e.ids.length <= max) return e;
  const firstTarget = e.mask!.indexOf(1);
  const tailLen = e.ids.length - (firstTarget < 0 ? e.ids.length : firstTarget);
  const head = Math.max(0, Math.min(Math.floor(max / 3), max - tailLen - 8));
  const tail = max - head;
  return { ids: [...e.ids.slice(0, head), ...e.ids.slice(-tail)], mask: [...e.mask!.slice(0, head), ...e.mask!.slice(-tail)] };
}

export async function runTrainJob(
  spec: TrainJobSpec,
  emit: (e: TrainJobEvent) => void,
  signal?: AbortSignal,
): Promise<TrainSummary | undefined> {
  const t0 = Date.now();
  const base = loadHfModel(spec.baseDir);
  if (!base.tokenizer) throw new Error(`${spec.baseDir} has no tokenizer.json`);
  const tok = base.tokenizer;
  const tc = base.tokenizerConfig;
  const template = chatTemplateOf(tc);
  const maxLen = Math.min(spec.maxSeqLen ?? base.config.max_position_embeddings, base.config.max_position_embeddings);
  const conv = (r: TrainingRecord) => fit(toExample(tok, tc, template, r), maxLen);
  const converted = spec.records.map(conv);
  const usable = converted.map((e) => e.mask!.some((m) => m));
  const records = converted.filter((_, i) => usable[i]);
  if (spec.groups && spec.groups.length !== spec.records.length)
    throw new Error(`groups: ${spec.groups.length} classes for ${spec.records.length} records`);
  const groups = spec.groups?.filter((_, i) => usable[i]);
  const val = (spec.validation ?? []).map(conv).filter((e) => e.mask!.some((m) => m));
  if (!records.length) throw new Error('no training record has an assistant turn to learn');
  const model: LlamaModel = { config: base.config, weights: base.weights };
  const stepsPerEpoch = Math.ceil(records.length / spec.batchSize);
  const totalSteps = Math.min(spec.maxSteps ?? Infinity, stepsPerEpoch * spec.epochs);
  const evalEvery = spec.evalEvery ?? Math.max(1, Math.min(stepsPerEpoch, Math.ceil(totalSteps / 4)));
  emit({
    type: 'log',
    level: 'info',
    message: `Training ${spec.method === 'lora' ? `LoRA r=${spec.rank}` : 'all weights'} on ${records.length} examples (${val.length} validation), ${totalSteps} steps${groups ? `, class-balanced over ${new Set(groups).size} classes` : ''}`,
  });
  // validation loss before training, so the report can show what training bought
  let initialValLoss: number | undefined;
  if (val.length) {
    const { Trainer } = await import('../engine/index.ts');
    const probe = new Trainer(model, {
      maxSeqLen: maxLen,
      lora: spec.method === 'lora' ? { rank: spec.rank, alpha: spec.alpha, dropout: 0, targetModules: spec.targetModules } : undefined,
      seed: spec.seed,
    });
    initialValLoss = await probe.evalLoss(val, spec.batchSize);
    emit({
      type: 'log',
      level: 'info',
      message: `Validation loss before training: ${initialValLoss.toFixed(4)}`,
      data: { step: 0, valid_loss: initialValLoss },
    });
  }
  let trained = 0;
  let resumedFromStep: number | undefined;
  let first = true;
  let priorMs = 0;
  const tLoop = Date.now();
  const res = await train(
    model,
    records,
    {
      lr: spec.learningRate,
      warmupSteps: spec.warmupSteps ?? Math.min(10, Math.floor(totalSteps / 10)),
      schedule: 'cosine',
      minLrRatio: 0.1,
      weightDecay: spec.method === 'full' ? 0.01 : 0,
      seed: spec.seed,
      maxSeqLen: maxLen,
      padId: base.config.pad_token_id ?? 0,
      lora:
        spec.method === 'lora'
          ? { rank: spec.rank, alpha: spec.alpha, dropout: spec.dropout, targetModules: spec.targetModules }
          : undefined,
      batchSize: spec.batchSize,
      groups,
      epochs: spec.epochs,
      maxSteps: spec.maxSteps,
      valRecords: val.length ? val : undefined,
      evalEvery,
      patience: val.length ? (spec.patience ?? 2) : undefined,
      restoreBest: val.length > 0,
      signal,
      checkpointDir: spec.checkpointDir,
      checkpointEvery: spec.checkpointEvery,
    },
    (p) => {
      if (first) {
        first = false;
        if (p.step > 1) {
          resumedFromStep = p.step - 1;
          priorMs = Math.max(0, p.elapsedMs - (Date.now() - tLoop));
          emit({
            type: 'log',
            level: 'info',
            message: `Resumed from the checkpoint at step ${resumedFromStep}`,
            data: { resumed_from_step: resumedFromStep },
          });
        }
      }
      trained = p.tokens;
      emit({
        type: 'progress',
        step: p.step,
        totalSteps: p.totalSteps,
        loss: p.loss,
        valLoss: p.valLoss,
        tokensPerSec: p.tokensPerSec,
        etaSec: p.etaMs / 1000,
        elapsedSec: p.elapsedMs / 1000,
        trainedTokens: trained,
      });
      const data: Record<string, number> = { step: p.step, train_loss: p.loss, tokens_per_sec: p.tokensPerSec };
      if (p.valLoss !== undefined) data.valid_loss = p.valLoss;
      emit({
        type: 'log',
        level: 'info',
        message: `Step ${p.step}/${p.totalSteps}: training loss=${p.loss.toFixed(4)}${p.valLoss !== undefined ? `, validation loss=${p.valLoss.toFixed(4)}` : ''}`,
        data,
      });
    },
  );
  if (res.aborted) return undefined;
  if (first && res.steps > 0) {
    resumedFromStep = res.steps;
    priorMs = res.elapsedMs;
  }
  mkdirSync(spec.outputDir, { recursive: true });
  let weights = model.weights;
  let adapterDir: string | undefined;
  if (res.adapter) {
    adapterDir = join(spec.outputDir, 'adapter');
    savePeftAdapter(adapterDir, res.adapter, { baseModelNameOrPath: spec.baseDir });
    weights = mergeLora(model.weights, res.adapter);
  }
  saveHfModel(
    spec.outputDir,
    { config: base.config, weights, tokenizer: tok, tokenizerConfig: tc, generationConfig: base.generationConfig },
    { dtype: 'F32' },
  );
  let trainable = 0;
  if (res.adapter) for (const { A, B } of res.adapter.weights.values()) trainable += A.data.length + B.data.length;
  else for (const t of model.weights.values()) trainable += t.data.length;
  const summary: TrainSummary = {
    method: spec.method,
    steps: res.steps,
    epochs: spec.epochs,
    examples: records.length,
    validation: val.length,
    trainedTokens: Math.round((res.tokensPerSec * res.elapsedMs) / 1000) || trained,
    losses: res.losses,
    valLosses: res.valLosses,
    initialValLoss,
    bestValLoss: res.bestValLoss,
    bestStep: res.bestStep,
    stoppedEarly: res.stoppedEarly,
    seconds: (Date.now() - t0 + priorMs) / 1000,
    tokensPerSec: res.tokensPerSec,
    trainableParams: trainable,
    outputDir: spec.outputDir,
    adapterDir,
    ...(resumedFromStep !== undefined ? { resumedFromStep } : {}),
  };
  writeFileSync(
    join(spec.outputDir, 'training.json'),
    JSON.stringify(
      {
        ...summary,
        base: spec.baseId,
        learningRate: spec.learningRate,
        balanced: !!groups,
        batchSize: spec.batchSize,
        rank: spec.rank,
        alpha: spec.alpha,
        seed: spec.seed,
      },
      null,
      2,
    ) + '\n',
  );
  return summary;
}

/** Token count of a record as the model sees it (chat template applied). */
export function recordTokenCounter(baseDir: string): (r: TrainingRecord) => number {
  const tokJson = JSON.parse(readFileSync(join(baseDir, 'tokenizer.json'), 'utf8'));
  const tcPath = join(baseDir, 'tokenizer_config.json');
  const tc = existsSync(tcPath) ? JSON.parse(readFileSync(tcPath, 'utf8')) : {};
  // lazy import keeps this sync for callers that already loaded the engine
  return (r) => countWith(tokJson, tc, r);
}

let cached: { json: unknown; tok: BpeTokenizer } | undefined;
import { loadTokenizer } from '../engine/index.ts';
function countWith(tokJson: unknown, tc: TokenizerConfig, r: TrainingRecord): number {
  if (!cached || cached.json !== tokJson) cached = { json: tokJson, tok: loadTokenizer(tokJson) };
  const text = applyChatTemplate(
    r.messages.map((m) => ({ role: m.role, content: m.content })),
    { chatTemplate: chatTemplateOf(tc), tokenizerConfig: tc },
  );
  return cached.tok.encode(text, { addSpecialTokens: false }).length;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
