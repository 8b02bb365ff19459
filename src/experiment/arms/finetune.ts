// Fine-tuned arms, trained on the local engine (backend: local) or at a hosted jobs API (backend:
// openai | together | fireworks; see finetune/hosted):
//   finetune         train (LoRA or full) on the train split rendered with the arm's prompt; dev split for
//                    validation loss and early stopping; evaluate the trained weights behind the same prompt.
//   finetune+prompt  the same training, then the fine-tuned model behind an engineered / few-shot prompt
//                    (demos drawn from train). Identical training (same records and settings) is done once
//                    per run and shared between arms.
// The arm sees only ctx.data (train + dev); the test split never reaches the trainer. Every fine-tune
// arm writes the exact records its trainer sees to train.jsonl and dev.jsonl in its arm folder.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { applySelection, baseProgram, preloadPrompt, type CreateOptions, type TemplateProgram } from '../../prompting/index.ts';
import {
  LocalFineTuneBackend,
  runToCompletion,
  toJsonl,
  type FineTuneJob,
  type FineTuneOptions,
  type TrainingRecord,
  type TrainSummary,
} from '../../finetune/index.ts';
import { trainHosted, type HostedFineTuneOptions } from '../../finetune/hosted/index.ts';
import type { ChatModel } from '../../models/types.ts';
import type { Example } from '../../task/types.ts';
import { InputError, Rng } from '../../core/index.ts';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import type { FinetuneArmConfig } from './finetune-schema.ts';
import { planTraining, recordChars, type TrainingPlan } from './finetune-defaults.ts';
import { channelModel, channelRecord } from './finetune-channel.ts';
import { wordDropoutEpochs } from './finetune-augment.ts';

export { finetuneArmSchema, finetunePromptArmSchema, type FinetuneArmConfig } from './finetune-schema.ts';

/** Optimizer steps between training checkpoints (a killed run resumes from the last one). */
export const CHECKPOINT_EVERY = Number(process.env.TUNELAB_CHECKPOINT_EVERY ?? 10);

/** The local folder behind a ChatModel made by the local provider (its endpoint is local:<dir>). */
function localDirOf(model: ChatModel, id: string): string {
  const ep = model.info?.endpoint;
  if (typeof ep === 'string' && ep.startsWith('local:')) return ep.slice(6);
  if (id.startsWith('local:')) return id;
  throw new InputError(`model ${id}`, 'fine-tuned arms need a local model (provider: local, or local:builtin / local:<path>)');
}

function recordsOf(examples: Example[], program: TemplateProgram): TrainingRecord[] {
  return examples.map((ex) => {
    const req = program.renderWith(ex, []);
    const messages = req.messages
      .filter((m, i, arr) => !(i === arr.length - 1 && m.role === 'assistant'))
      .map((m) => ({ role: m.role, content: m.content }));
    const answer = program.format.demoAnswer(ex.expected, undefined);
    messages.push({ role: 'assistant', content: answer });
    return { messages };
  });
}

interface TrainedArtifact {
  kind: 'tunelab.finetune';
  modelDir: string;
  summary: TrainSummary;
  reused: boolean;
  key: string;
}

/** What a hosted fine-tune produced; a resumed run rebuilds the predictor from it without asking the provider again. */
interface HostedArtifact {
  kind: 'tunelab.hosted-finetune';
  result: {
    model: string;
    jobId: string;
    status: string;
    trainedTokens: number;
    trainedTokensSource: string;
    costUsd: number;
    costSource: string;
    seconds: number;
    resumedJob: boolean;
    estimate?: { tokens: number; costUsd: number | null; pricePerMTok: number | null; note: string };
  };
}

/** The exact records the trainer sees, as chat JSONL in the arm's folder. */
export function writeTrainingFiles(dir: string, train: TrainingRecord[], dev?: TrainingRecord[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(train));
  writeFileSync(join(dir, 'dev.jsonl'), toJsonl(dev ?? []));
}

const inFlight = new Map<string, Promise<{ summary: TrainSummary; reused: boolean }>>();

async function trainOnce(
  key: string,
  dir: string,
  records: TrainingRecord[],
  opts: FineTuneOptions,
  cfg: FinetuneArmConfig,
  ctx: ArmContext,
  plan: TrainingPlan,
  groups?: string[],
): Promise<{ summary: TrainSummary; reused: boolean }> {
  const done = join(dir, 'training.json');
  if (existsSync(done) && existsSync(join(dir, 'config.json'))) return { summary: JSON.parse(readFileSync(done, 'utf8')), reused: true };
  let p = inFlight.get(key);
  if (p) return p.then((r) => ({ ...r, reused: true }));
  p = (async () => {
    // training writes into <dir>.partial (with its checkpoints), renamed to <dir> when it has succeeded;
    // a run killed while training finds <dir>.partial/checkpoint and continues from it
    const tmp = `${dir}.partial`;
    const checkpointDir = join(tmp, 'checkpoint');
    if (!existsSync(join(checkpointDir, 'checkpoint.safetensors'))) rmSync(tmp, { recursive: true, force: true });
    else ctx.log(`resuming training from the checkpoint in ${checkpointDir}`);
    const backend = new LocalFineTuneBackend({ patience: plan.patience, maxSeqLen: cfg.maxSeqLen, groups, evalEvery: plan.evalEvery });
    const problems = await backend.validate(records, opts);
    for (const pr of problems) ctx.log(`training data ${pr.level}${pr.index !== undefined ? ` (record ${pr.index})` : ''}: ${pr.message}`);
    const errs = problems.filter((x) => x.level === 'error');
    if (errs.length) throw new Error(`training data: ${errs.map((e) => e.message).join('; ')}`);
    let last = 0;
    const { state } = await runToCompletion(
      backend,
      records,
      { ...opts, outputDir: tmp, checkpointDir, checkpointEvery: CHECKPOINT_EVERY },
      {
        signal: ctx.signal,
        pollMs: 2000,
        onEvent: (e) => {
          if (!e.data || e.data.step === 0 || e.data.resumed_from_step !== undefined) ctx.log(e.message);
        },
        onProgress: ({ metrics: m }) => {
          if (!m.step || m.step === last) return;
          last = m.step;
          ctx.log(
            `training step ${m.step}/${m.totalSteps} loss ${m.trainLoss?.toFixed(3)}${m.validLoss !== undefined ? ` val ${m.validLoss.toFixed(3)}` : ''} ${m.tokensPerSec?.toFixed(0)} tok/s eta ${Math.round(m.etaSec ?? 0)}s`,
          );
        },
      },
    );
    if (state.status !== 'succeeded' || !state.summary) throw new Error(`training ${state.status}${state.error ? `: ${state.error}` : ''}`);
    const summary = state.summary;
    rmSync(checkpointDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    // the folder moved: record where it is now
    const fixed = { ...summary, outputDir: dir, adapterDir: summary.adapterDir ? join(dir, 'adapter') : undefined };
    writeFileSync(
      done,
      JSON.stringify({ ...JSON.parse(readFileSync(done, 'utf8')), outputDir: dir, adapterDir: fixed.adapterDir }, null, 2) + '\n',
    );
    ctx.log(
      `trained in ${summary.seconds.toFixed(1)} s: ${summary.steps} steps${summary.resumedFromStep !== undefined ? ` (resumed at step ${summary.resumedFromStep})` : ''}, validation loss ${summary.initialValLoss?.toFixed(3) ?? 'n/a'} → ${summary.bestValLoss?.toFixed(3) ?? 'n/a'}`,
    );
    return { summary: fixed, reused: false };
  })();
  inFlight.set(key, p);
  try {
    return await p;
  } finally {
    inFlight.delete(key);
  }
}

export function createFinetuneArm(config: FinetuneArmConfig, opts: CreateOptions = {}): Arm {
  const where = `arms.${config.name}`;
  const pre = preloadPrompt(config, where, opts.baseDir);
  const method = config.method ?? 'lora';

  async function build(ctx: ArmContext, artifact?: TrainedArtifact | HostedArtifact): Promise<Predictor> {
    if ((config.backend ?? 'local') !== 'local')
      return buildHosted(ctx, artifact?.kind === 'tunelab.hosted-finetune' ? artifact : undefined);
    const t0 = Date.now();
    const seed = config.seed ?? ctx.seed;
    const labels = ctx.labels ?? ctx.scorer.labels;
    const bctx = { inputFields: ctx.inputFields, labels, seed, train: ctx.data.train };
    const program = baseProgram(config, pre, bctx);
    const baseModel = ctx.model(config.model);
    const baseDir = localDirOf(baseModel, config.model);
    const train = config.trainExamples
      ? new Rng(seed >>> 0 || 1).shuffle(ctx.data.train).slice(0, config.trainExamples)
      : ctx.data.train.slice();
    const plan = planTraining(config, {
      trainSize: train.length,
      trainLabels: train.map((e) => e.expected),
      closedLabels: !!labels?.length,
      trainChars: recordChars(recordsOf(train, program)),
    });
    const dev = new Rng((seed + 1) >>> 0 || 1).shuffle(ctx.data.dev).slice(0, plan.devExamples);
    if (!train.length) throw new InputError(`${where}`, 'the train split is empty: nothing to fine-tune on');
    const toRecords = (xs: Example[]) =>
      plan.objective === 'channel'
        ? xs.map((ex) => channelRecord(program.renderWith(ex, []).messages, ex.expected))
        : recordsOf(xs, program);
    // word dropout: one augmented copy of train per epoch, given to the trainer as a single pass (validation per copy)
    const augment = plan.wordDropout > 0 && plan.objective === 'answer';
    const trainSeen = augment ? wordDropoutEpochs(train, ctx.inputFields, plan.wordDropout, plan.epochs, seed) : train;
    const records = toRecords(trainSeen);
    const validation = dev.length ? toRecords(dev) : undefined;
    const groups = plan.balance ? trainSeen.map((e) => e.expected) : undefined;
    const evalEvery = augment ? (plan.evalEvery ?? Math.max(1, Math.ceil(train.length / plan.batchSize))) : plan.evalEvery;
    writeTrainingFiles(ctx.workDir, records, validation);
    const lr = plan.learningRate;
    if (plan.auto)
      ctx.log(
        `training defaults (no learningRate/epochs/maxSteps in the config): ${method} lr ${lr}${method === 'lora' ? ` rank ${plan.rank} alpha ${plan.alpha ?? 2 * plan.rank}` : ''}, up to ${plan.epochs} epochs, the best epoch on dev loss (patience ${plan.patience})${groups ? ', class-balanced' : ''}${plan.objective === 'channel' ? ', channel objective' : ''}${augment ? `, word dropout ${plan.wordDropout}` : ''}`,
      );
    const ftOpts: FineTuneOptions = {
      baseModel: baseDir,
      method,
      epochs: augment ? 1 : plan.epochs,
      learningRate: lr,
      batchSize: plan.batchSize,
      rank: plan.rank,
      alpha: plan.alpha,
      dropout: config.dropout ?? 0,
      targetModules: config.targetModules,
      seed,
      outputDir: '',
      validation,
      maxSteps: config.maxSteps,
    };
    const key = createHash('sha256')
      .update(
        JSON.stringify({
          baseDir: resolve(baseDir),
          records,
          validation,
          ...ftOpts,
          outputDir: undefined,
          validationN: validation?.length,
          patience: plan.patience,
          maxSeqLen: config.maxSeqLen,
          // absent when unused, so pinned configs keep their earlier keys (and trained folders)
          ...(groups ? { groups } : {}),
          ...(evalEvery !== undefined ? { evalEvery } : {}),
          ...(plan.objective === 'channel' ? { objective: 'channel' } : {}),
        }),
      )
      .digest('hex')
      .slice(0, 16);
    // shared by the run's arms: <run>/arms/_finetuned/<key>
    const local = artifact?.kind === 'tunelab.finetune' ? artifact : undefined;
    const dir =
      local?.modelDir && existsSync(join(local.modelDir, 'config.json')) ? local.modelDir : join(dirname(ctx.workDir), '_finetuned', key);
    mkdirSync(dirname(dir), { recursive: true });
    ctx.log(
      `fine-tuning ${method} on ${train.length} train examples${augment ? ` (${records.length} records: ${plan.epochs} word-dropout copies)` : ''} (${validation?.length ?? 0} dev for validation) from ${baseDir}`,
    );
    const { summary, reused } = await trainOnce(
      key,
      dir,
      records,
      { ...ftOpts, outputDir: dir },
      config,
      ctx,
      { ...plan, evalEvery },
      groups,
    );
    const modelId = `local:${dir}`;
    const perHour = baseModel.info?.price.perHour ?? 0;
    let model = ctx.model(modelId, { like: config.model });
    let prog = program;
    if (config.kind === 'finetune+prompt' && config.shots) {
      ({ program: prog, model } = await applySelection(
        program,
        { strategy: config.strategy ?? 'random', k: config.shots },
        bctx,
        model,
        undefined,
        `${where}.shots`,
      ));
    }
    if (plan.objective === 'channel') model = channelModel(model);
    const art: TrainedArtifact = { kind: 'tunelab.finetune', modelDir: dir, summary, reused, key };
    return {
      model,
      prompt: prog,
      spent: { calls: 0, tokensIn: summary.trainedTokens, tokensOut: 0, costUsd: 0, ms: Date.now() - t0 },
      training: {
        seconds: summary.seconds,
        costUsd: (summary.seconds / 3600) * perHour,
        modelId,
        details: {
          method,
          steps: summary.steps,
          epochs: plan.epochs,
          learningRate: lr,
          rank: method === 'lora' ? plan.rank : undefined,
          alpha: method === 'lora' ? (plan.alpha ?? 2 * plan.rank) : undefined,
          defaults: plan.auto,
          objective: plan.objective,
          wordDropout: augment ? plan.wordDropout : undefined,
          balanced: !!groups,
          bestStep: summary.bestStep,
          trainExamples: augment ? train.length : summary.examples,
          devExamples: summary.validation,
          trainedTokens: summary.trainedTokens,
          trainableParams: summary.trainableParams,
          initialValLoss: summary.initialValLoss,
          bestValLoss: summary.bestValLoss,
          finalTrainLoss: summary.losses.at(-1),
          stoppedEarly: summary.stoppedEarly,
          tokensPerSec: summary.tokensPerSec,
          sharedWithOtherArm: reused,
          adapterDir: summary.adapterDir,
        },
      },
      notes: { promptHash: prog.hash, demos: prog.demos.map((d) => d.id), modelDir: dir, trainingShared: reused },
      artifact: art,
    };
  }

  /** backend openai | together | fireworks: a job at the provider; the tuned model answers at the base model's endpoint. */
  async function buildHosted(ctx: ArmContext, artifact?: HostedArtifact): Promise<Predictor> {
    const t0 = Date.now();
    const backend = config.backend as 'openai' | 'together' | 'fireworks';
    const seed = config.seed ?? ctx.seed;
    const labels = ctx.labels ?? ctx.scorer.labels;
    const bctx = { inputFields: ctx.inputFields, labels, seed, train: ctx.data.train };
    const program = baseProgram(config, pre, bctx);
    const baseModel = ctx.model(config.model);
    const info = baseModel.info;
    if (!info || info.provider === 'local')
      throw new InputError(
        `${where}.model`,
        `backend ${backend} trains at a provider: model must name a models[] entry of that provider (its endpoint serves the tuned model)`,
      );
    const train = config.trainExamples
      ? new Rng(seed >>> 0 || 1).shuffle(ctx.data.train).slice(0, config.trainExamples)
      : ctx.data.train.slice();
    const dev = new Rng((seed + 1) >>> 0 || 1).shuffle(ctx.data.dev).slice(0, config.devExamples ?? 64);
    if (!train.length) throw new InputError(`${where}`, 'the train split is empty: nothing to fine-tune on');
    const records = recordsOf(train, program);
    const validation = dev.length ? recordsOf(dev, program) : undefined;
    writeTrainingFiles(ctx.workDir, records, validation);
    const lr = config.learningRate ?? (backend === 'together' ? 1e-5 : 1e-4);
    const opts: HostedFineTuneOptions = {
      baseModel: config.baseModel ?? info.model,
      method,
      epochs: config.epochs ?? 3,
      learningRate: lr,
      batchSize: config.batchSize,
      rank: method === 'lora' ? config.rank : undefined,
      alpha: config.alpha,
      dropout: config.dropout,
      targetModules: config.targetModules,
      seed,
      outputDir: '',
      validation,
      suffix: config.suffix,
      maxSeqLen: config.maxSeqLen,
      learningRateMultiplier: config.learningRateMultiplier,
    };
    let r: HostedArtifact['result'];
    if (artifact?.result) r = artifact.result;
    else {
      const resumed = ctx.resume as { job?: FineTuneJob } | undefined;
      const out = await trainHosted({
        backend,
        where,
        records,
        opts,
        workDir: ctx.workDir,
        apiKeyEnv: config.apiKeyEnv,
        account: config.account,
        // the jobs API of an OpenAI-shaped or Together endpoint is at the same base URL as its chat API
        baseURL: config.baseURL ?? (backend === 'fireworks' ? undefined : info.endpoint),
        budgetUsd: config.budget,
        trainingPrice: config.trainingPrice,
        pollMs: (config.pollSeconds ?? 10) * 1000,
        cancelOnAbort: ctx.cancelJobs,
        signal: ctx.signal,
        log: ctx.log,
        resumeJob: resumed?.job,
        onJob: (job) => ctx.save?.({ job }),
      });
      r = {
        model: out.model,
        jobId: out.job.id,
        status: out.state.providerStatus,
        trainedTokens: out.trainedTokens,
        trainedTokensSource: out.trainedTokensSource,
        costUsd: out.costUsd,
        costSource: out.costSource,
        seconds: out.seconds,
        resumedJob: out.resumed,
        estimate: out.estimate
          ? {
              tokens: out.estimate.tokens,
              costUsd: Number.isFinite(out.estimate.costUsd) ? out.estimate.costUsd : null,
              pricePerMTok: out.estimate.pricePerMTok ?? null,
              note: out.estimate.note ?? '',
            }
          : undefined,
      };
      ctx.log(
        `${backend} job ${r.jobId} ${r.status}: ${r.model}; ${r.trainedTokens} trained tokens (${r.trainedTokensSource}), $${r.costUsd.toFixed(4)} (${r.costSource})`,
      );
    }
    let model = ctx.model(r.model, { like: config.model });
    let prog = program;
    if (config.kind === 'finetune+prompt' && config.shots) {
      ({ program: prog, model } = await applySelection(
        program,
        { strategy: config.strategy ?? 'random', k: config.shots },
        bctx,
        model,
        undefined,
        `${where}.shots`,
      ));
    }
    return {
      model,
      prompt: prog,
      spent: { calls: 0, tokensIn: r.trainedTokens, tokensOut: 0, costUsd: 0, ms: Date.now() - t0 },
      training: {
        seconds: r.seconds,
        costUsd: r.costUsd,
        modelId: r.model,
        details: {
          backend,
          jobId: r.jobId,
          providerStatus: r.status,
          method,
          epochs: opts.epochs,
          learningRate: backend === 'openai' ? undefined : lr,
          learningRateMultiplier: opts.learningRateMultiplier,
          rank: opts.rank,
          baseModel: opts.baseModel,
          trainExamples: records.length,
          devExamples: validation?.length ?? 0,
          trainedTokens: r.trainedTokens,
          trainedTokensSource: r.trainedTokensSource,
          costSource: r.costSource,
          estimate: r.estimate,
          resumedJob: r.resumedJob,
        },
      },
      notes: {
        promptHash: prog.hash,
        demos: prog.demos.map((d) => d.id),
        backend,
        jobId: r.jobId,
        tunedModel: r.model,
        trainingFiles: ['train.jsonl', ...(validation ? ['dev.jsonl'] : [])],
      },
      artifact: { kind: 'tunelab.hosted-finetune', result: r } satisfies HostedArtifact,
    };
  }

  return {
    name: config.name,
    kind: config.kind,
    prepare: (ctx) => build(ctx),
    restore: (ctx, artifact) => build(ctx, artifact as TrainedArtifact | HostedArtifact),
  };
}

/** The factory the arm registry loads (registry.ts) for kinds `finetune` and `finetune+prompt`. */
export const create = createFinetuneArm;

/**
 * The records a fine-tune arm trains on (train, and dev for validation), computed from its config and the
 * run's train/dev split exactly as prepare() does: `tunelab export` uses it when no run has written them.
 */
export function armTrainingRecords(
  config: FinetuneArmConfig,
  ctx: { data: { train: Example[]; dev: Example[] }; inputFields: string[]; labels?: string[]; seed: number; baseDir?: string },
): { train: TrainingRecord[]; dev: TrainingRecord[] } {
  const pre = preloadPrompt(config, `arms.${config.name}`, ctx.baseDir);
  const seed = config.seed ?? ctx.seed;
  const program = baseProgram(config, pre, { inputFields: ctx.inputFields, labels: ctx.labels, seed, train: ctx.data.train });
  const train = config.trainExamples
    ? new Rng(seed >>> 0 || 1).shuffle(ctx.data.train).slice(0, config.trainExamples)
    : ctx.data.train.slice();
  const local = (config.backend ?? 'local') === 'local';
  const plan = local
    ? planTraining(config, {
        trainSize: train.length,
        trainLabels: train.map((e) => e.expected),
        closedLabels: !!ctx.labels?.length,
        trainChars: recordChars(recordsOf(train, program)),
      })
    : undefined;
  const dev = new Rng((seed + 1) >>> 0 || 1).shuffle(ctx.data.dev).slice(0, plan?.devExamples ?? config.devExamples ?? 64);
  const toRecords = (xs: Example[]) =>
    plan?.objective === 'channel'
      ? xs.map((ex) => channelRecord(program.renderWith(ex, []).messages, ex.expected))
      : recordsOf(xs, program);
  return { train: toRecords(train), dev: toRecords(dev) };
}
