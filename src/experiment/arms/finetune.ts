// Fine-tuned arms on the local engine:
//   finetune         train (LoRA or full) on the train split rendered with the arm's prompt; dev split for
//                    validation loss and early stopping; evaluate the trained weights behind the same prompt.
//   finetune+prompt  the same training, then the fine-tuned model behind an engineered / few-shot prompt
//                    (demos drawn from train). Identical training (same records and settings) is done once
//                    per run and shared between arms.
// The arm sees only ctx.data (train + dev); the test split never reaches the trainer.
import { z } from 'zod';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  applySelection, baseProgram, onlyOneOf, onlyOneOfMessage, preloadPrompt, promptFields, type CreateOptions, type PromptConfig, type TemplateProgram,
} from '../../prompting/index.ts';
import { LocalFineTuneBackend, type FineTuneOptions, type TrainingRecord, type TrainSummary } from '../../finetune/index.ts';
import type { ChatModel } from '../../models/types.ts';
import type { Example } from '../../task/types.ts';
import { InputError } from '../../core/index.ts';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import { registerArmKind, type ArmKind } from './registry.ts';

export interface FinetuneArmConfig extends PromptConfig {
  name: string;
  kind: 'finetune' | 'finetune+prompt';
  /** base model: a models[] id of a local model, or local:builtin / local:<path> */
  model: string;
  method?: 'lora' | 'full';
  epochs?: number;
  learningRate?: number;
  rank?: number;
  alpha?: number;
  dropout?: number;
  batchSize?: number;
  targetModules?: string[];
  /** use at most this many training examples (seeded subset of train) */
  trainExamples?: number;
  /** use at most this many dev examples for validation loss (default 64) */
  devExamples?: number;
  maxSteps?: number;
  /** longest training sequence in tokens (default: the model's context) */
  maxSeqLen?: number;
  /** stop after this many validations without improvement (default 2) */
  patience?: number;
  /** finetune+prompt: demonstrations at inference time */
  shots?: number;
  strategy?: 'random' | 'stratified' | 'bm25';
}

const trainFields = {
  name: z.string().min(1),
  model: z.string().min(1),
  ...promptFields,
  method: z.enum(['lora', 'full']).optional(),
  epochs: z.number().int().min(1).max(100).optional(),
  learningRate: z.number().positive().max(1).optional(),
  rank: z.number().int().min(1).max(256).optional(),
  alpha: z.number().positive().optional(),
  dropout: z.number().min(0).max(0.9).optional(),
  batchSize: z.number().int().min(1).max(512).optional(),
  targetModules: z.array(z.enum(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])).min(1).optional(),
  trainExamples: z.number().int().min(1).optional(),
  devExamples: z.number().int().min(0).optional(),
  maxSteps: z.number().int().min(1).optional(),
  maxSeqLen: z.number().int().min(16).optional(),
  patience: z.number().int().min(1).optional(),
};

export const finetuneArmSchema = z.strictObject({ ...trainFields, kind: z.literal('finetune') }).refine(onlyOneOf, onlyOneOfMessage) as unknown as z.ZodType<FinetuneArmConfig>;
export const finetunePromptArmSchema = z
  .strictObject({ ...trainFields, kind: z.literal('finetune+prompt'), shots: z.number().int().min(0).max(64).optional(), strategy: z.enum(['random', 'stratified', 'bm25']).optional() })
  .refine(onlyOneOf, onlyOneOfMessage) as unknown as z.ZodType<FinetuneArmConfig>;

function seededShuffle<T>(xs: readonly T[], seed: number): T[] {
  const a = xs.slice();
  let s = (seed >>> 0) || 1;
  const next = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  return a;
}

/** The local folder behind a ChatModel made by the local provider (its endpoint is local:<dir>). */
function localDirOf(model: ChatModel, id: string): string {
  const ep = (model as any).info?.endpoint ?? (model as any).endpoint;
  if (typeof ep === 'string' && ep.startsWith('local:')) return ep.slice(6);
  if (id.startsWith('local:')) return id;
  throw new InputError(`model ${id}`, 'fine-tuned arms need a local model (provider: local, or local:builtin / local:<path>)');
}

function recordsOf(examples: Example[], program: TemplateProgram): TrainingRecord[] {
  return examples.map((ex) => {
    const req = program.renderWith(ex, []);
    const messages = req.messages.filter((m, i, arr) => !(i === arr.length - 1 && m.role === 'assistant')).map((m) => ({ role: m.role, content: m.content }));
    const answer = typeof (program.format as any).demoAnswer === 'function' ? (program.format as any).demoAnswer(ex.expected, undefined) : ex.expected;
    messages.push({ role: 'assistant', content: answer });
    return { messages };
  });
}

interface TrainedArtifact { kind: 'tunelab.finetune'; modelDir: string; summary: TrainSummary; reused: boolean; key: string }

const inFlight = new Map<string, Promise<{ summary: TrainSummary; reused: boolean }>>();

async function trainOnce(key: string, dir: string, records: TrainingRecord[], opts: FineTuneOptions, cfg: FinetuneArmConfig, ctx: ArmContext): Promise<{ summary: TrainSummary; reused: boolean }> {
  const done = join(dir, 'training.json');
  if (existsSync(done) && existsSync(join(dir, 'config.json'))) return { summary: JSON.parse(readFileSync(done, 'utf8')), reused: true };
  let p = inFlight.get(key);
  if (p) return p.then((r) => ({ ...r, reused: true }));
  p = (async () => {
    const tmp = `${dir}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    const backend = new LocalFineTuneBackend({ patience: cfg.patience ?? 2, maxSeqLen: cfg.maxSeqLen });
    const problems = await backend.validate(records, opts);
    for (const pr of problems) ctx.log(`training data ${pr.level}${pr.index !== undefined ? ` (record ${pr.index})` : ''}: ${pr.message}`);
    const errs = problems.filter((x) => x.level === 'error');
    if (errs.length) throw new Error(`training data: ${errs.map((e) => e.message).join('; ')}`);
    const job = await backend.start(records, { ...opts, outputDir: tmp });
    const onAbort = () => void backend.cancel(job);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    let last = 0; let seen = 0;
    const timer = setInterval(async () => {
      const st = await backend.poll(job);
      for (const e of st.events.slice(seen)) if (!e.data || e.data.step === 0) ctx.log(e.message);
      seen = st.events.length;
      const m = st.metrics;
      if (m.step && m.step !== last) {
        last = m.step;
        ctx.log(`training step ${m.step}/${m.totalSteps} loss ${m.trainLoss?.toFixed(3)}${m.validLoss !== undefined ? ` val ${m.validLoss.toFixed(3)}` : ''} ${m.tokensPerSec?.toFixed(0)} tok/s eta ${Math.round(m.etaSec ?? 0)}s`);
      }
    }, 2000);
    let st;
    try { st = await backend.wait(job); } finally { clearInterval(timer); ctx.signal?.removeEventListener('abort', onAbort); }
    if (st.status !== 'succeeded') throw new Error(`training ${st.status}${st.error ? `: ${st.error}` : ''}`);
    const summary = backend.summary(job)!;
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    // the folder moved: record where it is now
    const fixed = { ...summary, outputDir: dir, adapterDir: summary.adapterDir ? join(dir, 'adapter') : undefined };
    writeFileSync(done, JSON.stringify({ ...JSON.parse(readFileSync(done, 'utf8')), outputDir: dir, adapterDir: fixed.adapterDir }, null, 2) + '\n');
    if (fixed.adapterDir) {
      const acfg = join(fixed.adapterDir, 'adapter_config.json');
      if (existsSync(acfg)) { const a = JSON.parse(readFileSync(acfg, 'utf8')); writeFileSync(acfg, JSON.stringify(a, null, 2) + '\n'); }
    }
    ctx.log(`trained in ${summary.seconds.toFixed(1)} s: ${summary.steps} steps, validation loss ${summary.initialValLoss?.toFixed(3) ?? 'n/a'} → ${summary.bestValLoss?.toFixed(3) ?? 'n/a'}`);
    return { summary: fixed, reused: false };
  })();
  inFlight.set(key, p);
  try { return await p; } finally { inFlight.delete(key); }
}

export function createFinetuneArm(config: FinetuneArmConfig, opts: CreateOptions = {}): Arm {
  const where = `arms.${config.name}`;
  const pre = preloadPrompt(config, where, opts.baseDir);
  const method = config.method ?? 'lora';

  async function build(ctx: ArmContext, artifact?: TrainedArtifact): Promise<Predictor> {
    const t0 = Date.now();
    const seed = config.seed ?? ctx.seed;
    const labels = ctx.labels ?? ctx.scorer.labels;
    const bctx = { inputFields: ctx.inputFields, labels, seed, train: ctx.data.train };
    const program = baseProgram(config, pre, bctx);
    const baseModel = ctx.model(config.model);
    const baseDir = localDirOf(baseModel, config.model);
    const train = config.trainExamples ? seededShuffle(ctx.data.train, seed).slice(0, config.trainExamples) : ctx.data.train.slice();
    const dev = seededShuffle(ctx.data.dev, seed + 1).slice(0, config.devExamples ?? 64);
    if (!train.length) throw new InputError(`${where}`, 'the train split is empty: nothing to fine-tune on');
    const records = recordsOf(train, program);
    const validation = dev.length ? recordsOf(dev, program) : undefined;
    const lr = config.learningRate ?? (method === 'lora' ? 2e-3 : 3e-4);
    const ftOpts: FineTuneOptions = {
      baseModel: baseDir, method, epochs: config.epochs ?? 3, learningRate: lr, batchSize: config.batchSize ?? 8,
      rank: config.rank ?? 8, alpha: config.alpha, dropout: config.dropout ?? 0, targetModules: config.targetModules, seed,
      outputDir: '', validation, maxSteps: config.maxSteps,
    };
    const key = createHash('sha256').update(JSON.stringify({ baseDir: resolve(baseDir), records, validation, ...ftOpts, outputDir: undefined, validationN: validation?.length, patience: config.patience ?? 2, maxSeqLen: config.maxSeqLen })).digest('hex').slice(0, 16);
    // shared by the run's arms: <run>/arms/_finetuned/<key>
    const dir = artifact?.modelDir && existsSync(join(artifact.modelDir, 'config.json')) ? artifact.modelDir : join(dirname(ctx.workDir), '_finetuned', key);
    mkdirSync(dirname(dir), { recursive: true });
    ctx.log(`fine-tuning ${method} on ${records.length} train examples (${validation?.length ?? 0} dev for validation) from ${baseDir}`);
    const { summary, reused } = await trainOnce(key, dir, records, { ...ftOpts, outputDir: dir }, config, ctx);
    const modelId = `local:${dir}`;
    const perHour = (baseModel as any).info?.price?.perHour ?? 0;
    let model = ctx.model(modelId, { like: config.model });
    let prog = program;
    if (config.kind === 'finetune+prompt' && config.shots) {
      ({ program: prog, model } = await applySelection(program, { strategy: config.strategy ?? 'random', k: config.shots }, bctx, model, undefined, `${where}.shots`));
    }
    const art: TrainedArtifact = { kind: 'tunelab.finetune', modelDir: dir, summary, reused, key };
    return {
      model,
      prompt: prog,
      spent: { calls: 0, tokensIn: summary.trainedTokens, tokensOut: 0, costUsd: 0, ms: Date.now() - t0 },
      training: {
        seconds: summary.seconds, costUsd: (summary.seconds / 3600) * perHour, modelId,
        details: {
          method, steps: summary.steps, epochs: config.epochs ?? 3, learningRate: lr, rank: method === 'lora' ? config.rank ?? 8 : undefined,
          trainExamples: summary.examples, devExamples: summary.validation, trainedTokens: summary.trainedTokens, trainableParams: summary.trainableParams,
          initialValLoss: summary.initialValLoss, bestValLoss: summary.bestValLoss, finalTrainLoss: summary.losses.at(-1), stoppedEarly: summary.stoppedEarly,
          tokensPerSec: summary.tokensPerSec, sharedWithOtherArm: reused, adapterDir: summary.adapterDir,
        },
      },
      notes: { promptHash: prog.hash, demos: prog.demos.map((d) => d.id), modelDir: dir, trainingShared: reused },
      artifact: art,
    };
  }

  return {
    name: config.name,
    kind: config.kind,
    prepare: (ctx) => build(ctx),
    restore: (ctx, artifact) => build(ctx, artifact as TrainedArtifact),
  };
}

export const finetuneArmKind: ArmKind<FinetuneArmConfig> = { kind: 'finetune', schema: finetuneArmSchema, create: createFinetuneArm };
export const finetunePromptArmKind: ArmKind<FinetuneArmConfig> = { kind: 'finetune+prompt', schema: finetunePromptArmSchema, create: createFinetuneArm };
registerArmKind(finetuneArmKind);
registerArmKind(finetunePromptArmKind);
