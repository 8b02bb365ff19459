// The local FineTuneBackend: trains on this machine with the engine in a worker thread (the caller's
// event loop stays free), LoRA or full, dev records for validation and early stopping; the output is a
// Hugging Face folder (LoRA merged) plus the PEFT adapter under adapter/, usable at once as local:<dir>.
import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { resolveLocalPath } from '../models/local.ts';
import type {
  Estimate,
  FineTuneBackend,
  FineTuneJob,
  FineTuneOptions,
  JobEvent,
  JobState,
  Problem,
  TrainingRecord,
  TrainSummary,
} from './types.ts';
import { validateRecords } from './validate.ts';
import { estimateRun } from './estimate.ts';
// train-job.ts pulls in the engine (onnxruntime): loaded on first use so `tunelab run` without local training skips it
import type { TrainJobEvent, TrainJobSpec } from './train-job.ts';
const trainJob = () => import('./train-job.ts');

export const DEFAULT_LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

export interface LocalBackendOptions {
  /** run training in a worker thread (default true); false runs it on the calling thread */
  worker?: boolean;
  /** compute price per hour (USD) for cost figures; default 0 */
  pricePerHour?: number;
  /** validation records and held-out prompt hashes are checked here; the test split itself is never passed */
  holdoutPromptHashes?: string[];
  patience?: number;
  /** longest training sequence in tokens (default: the model's context) */
  maxSeqLen?: number;
  /** class-balanced sampling: the class of each training record (as long as the records given to start) */
  groups?: string[];
  warmupSteps?: number;
  /** optimizer steps between validations (default: a quarter of the steps, at most one epoch) */
  evalEvery?: number;
}

interface Running {
  job: FineTuneJob;
  state: JobState;
  summary?: TrainSummary;
  worker?: Worker;
  abort?: AbortController;
  done: Promise<void>;
}

function workerUrl(): URL {
  const here = dirname(fileURLToPath(import.meta.url));
  // from src/finetune (tsx) or from the bundle in dist/: the worker source is src/finetune/worker-boot.mjs
  const candidates = [
    join(here, 'worker-boot.mjs'),
    join(here, '..', 'src', 'finetune', 'worker-boot.mjs'),
    join(here, '..', '..', 'src', 'finetune', 'worker-boot.mjs'),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error('training worker source (src/finetune/worker-boot.mjs) not found');
  return new URL(`file://${file}`);
}

export function specFor(
  data: TrainingRecord[],
  opts: FineTuneOptions,
  extra: { patience?: number; maxSeqLen?: number; groups?: string[]; warmupSteps?: number; evalEvery?: number } = {},
): TrainJobSpec {
  return {
    baseDir: resolveLocalPath(opts.baseModel),
    baseId: opts.baseModel,
    method: opts.method,
    epochs: opts.epochs,
    learningRate: opts.learningRate,
    batchSize: opts.batchSize ?? 8,
    rank: opts.rank ?? 8,
    alpha: opts.alpha ?? 2 * (opts.rank ?? 8),
    dropout: opts.dropout ?? 0,
    targetModules: opts.targetModules ?? DEFAULT_LORA_TARGETS,
    seed: opts.seed,
    outputDir: resolve(opts.outputDir),
    maxSteps: opts.maxSteps,
    patience: extra.patience,
    maxSeqLen: extra.maxSeqLen,
    records: data,
    groups: extra.groups,
    warmupSteps: extra.warmupSteps,
    evalEvery: extra.evalEvery,
    validation: opts.validation,
    checkpointDir: opts.checkpointDir ? resolve(opts.checkpointDir) : undefined,
    checkpointEvery: opts.checkpointEvery,
  };
}

export class LocalFineTuneBackend implements FineTuneBackend {
  readonly name = 'local';
  private jobs = new Map<string, Running>();
  constructor(private o: LocalBackendOptions = {}) {}

  private async context(opts: FineTuneOptions): Promise<{ baseDir: string; ctx: number; count: (r: TrainingRecord) => number }> {
    const baseDir = resolveLocalPath(opts.baseModel);
    if (!existsSync(join(baseDir, 'config.json'))) throw new Error(`base model ${opts.baseModel}: no config.json in ${baseDir}`);
    const cfg = JSON.parse(readFileSync(join(baseDir, 'config.json'), 'utf8'));
    return { baseDir, ctx: cfg.max_position_embeddings, count: (await trainJob()).recordTokenCounter(baseDir) };
  }

  async validate(data: TrainingRecord[], opts: FineTuneOptions): Promise<Problem[]> {
    let c;
    try {
      c = await this.context(opts);
    } catch (e) {
      return [{ level: 'error', message: (e as Error).message }];
    }
    const problems = validateRecords(data, {
      contextLength: this.o.maxSeqLen ?? c.ctx,
      countTokens: c.count,
      validation: opts.validation,
      holdoutPromptHashes: this.o.holdoutPromptHashes,
    });
    if (opts.method === 'lora' && opts.rank !== undefined && (!Number.isInteger(opts.rank) || opts.rank < 1))
      problems.push({ level: 'error', message: 'rank must be a positive integer' });
    if (!(opts.learningRate > 0)) problems.push({ level: 'error', message: 'learning rate must be positive' });
    if (!(opts.epochs >= 1)) problems.push({ level: 'error', message: 'epochs must be at least 1' });
    return problems;
  }

  /** Tokens and steps from the data; time from a 2-step probe run on this machine (on the calling thread). */
  async estimate(data: TrainingRecord[], opts: FineTuneOptions): Promise<Estimate> {
    const c = await this.context(opts);
    const probeN = Math.min(data.length, (opts.batchSize ?? 8) * 2);
    const probeOpts = {
      ...opts,
      epochs: 1,
      maxSteps: 2,
      validation: undefined,
      outputDir: join(opts.outputDir, '.probe'),
      checkpointDir: undefined,
    };
    const spec = specFor(data.slice(0, probeN), probeOpts, { maxSeqLen: this.o.maxSeqLen });
    let secPerTok: number | undefined;
    let note: string | undefined;
    const { runTrainJob, removeDir } = await trainJob();
    await runTrainJob({ ...spec, outputDir: probeOpts.outputDir }, (e) => {
      if (e.type === 'progress' && e.step === 2 && e.tokensPerSec > 0) {
        secPerTok = 1 / e.tokensPerSec;
        note = `${e.tokensPerSec.toFixed(0)} target tokens/s over 2 steps`;
      }
    }).catch(() => undefined);
    removeDir(probeOpts.outputDir);
    // the probe counts target (assistant) tokens: estimate with the same measure
    const targetCount = (r: TrainingRecord) => Math.max(1, Math.round(c.count({ messages: r.messages.slice(-1) }) * 0.8));
    return estimateRun({
      records: data,
      opts,
      countTokens: targetCount,
      contextLength: c.ctx,
      secondsPerToken: secPerTok,
      probeNote: note,
      pricePerHour: this.o.pricePerHour,
    });
  }

  async start(data: TrainingRecord[], opts: FineTuneOptions): Promise<FineTuneJob> {
    const id = `local-${randomBytes(6).toString('hex')}`;
    const job: FineTuneJob = { id, backend: this.name, options: { ...opts, validation: undefined }, createdAt: Date.now() };
    const spec = specFor(data, opts, {
      patience: this.o.patience,
      maxSeqLen: this.o.maxSeqLen,
      groups: this.o.groups,
      warmupSteps: this.o.warmupSteps,
      evalEvery: this.o.evalEvery,
    });
    const r: Running = { job, state: { status: 'running', events: [], metrics: { elapsedSec: 0 } }, done: Promise.resolve() };
    const ev = (level: JobEvent['level'], message: string, d?: Record<string, number>) =>
      r.state.events.push({ at: Date.now(), level, message, ...(d ? { data: d } : {}) });
    const onEvent = (e: TrainJobEvent) => {
      if (e.type === 'log') ev(e.level, e.message, e.data);
      else if (e.type === 'progress') {
        r.state.metrics = {
          step: e.step,
          totalSteps: e.totalSteps,
          trainLoss: e.loss,
          validLoss: e.valLoss ?? r.state.metrics.validLoss,
          tokensPerSec: e.tokensPerSec,
          etaSec: e.etaSec,
          elapsedSec: e.elapsedSec,
          trainedTokens: e.trainedTokens,
        };
      } else if (e.type === 'done') {
        r.summary = e.summary;
        r.state.summary = e.summary;
        r.state.metrics = { ...r.state.metrics, trainedTokens: e.summary.trainedTokens, step: e.summary.steps };
        r.state.status = 'succeeded';
      } else if (e.type === 'error') {
        r.state.status = 'failed';
        r.state.error = e.message;
        ev('error', e.message);
      } else if (e.type === 'cancelled') r.state.status = 'cancelled';
    };
    ev('info', `Fine-tuning ${opts.baseModel} (${opts.method}) on ${data.length} records`);
    if (this.o.worker === false) {
      r.abort = new AbortController();
      r.done = trainJob()
        .then(({ runTrainJob }) => runTrainJob(spec, onEvent, r.abort!.signal))
        .then((s) => onEvent(s ? { type: 'done', summary: s } : { type: 'cancelled' }))
        .catch((e) => onEvent({ type: 'error', message: (e as Error).message }));
    } else {
      const w = new Worker(workerUrl(), { workerData: spec, execArgv: [] });
      r.worker = w;
      r.done = new Promise<void>((res) => {
        w.on('message', onEvent);
        w.on('error', (e) => {
          onEvent({ type: 'error', message: e.message });
          res();
        });
        w.on('exit', (code) => {
          if (r.state.status === 'running')
            onEvent(code === 0 ? { type: 'cancelled' } : { type: 'error', message: `training worker exited with code ${code}` });
          res();
        });
      });
    }
    this.jobs.set(id, r);
    return job;
  }

  async poll(job: FineTuneJob): Promise<JobState> {
    const r = this.jobs.get(job.id);
    if (!r)
      return {
        status: 'failed',
        events: [],
        metrics: {},
        error: `job ${job.id} is not known to this process (it was started by another one)`,
      };
    return { ...r.state, events: r.state.events.slice(), metrics: { ...r.state.metrics } };
  }

  /** Resolves when the job has finished (any terminal state). */
  async wait(job: FineTuneJob): Promise<JobState> {
    const r = this.jobs.get(job.id);
    if (!r) return this.poll(job);
    await r.done;
    return this.poll(job);
  }

  async cancel(job: FineTuneJob): Promise<void> {
    const r = this.jobs.get(job.id);
    if (!r || r.state.status !== 'running') return;
    r.abort?.abort();
    if (r.worker) {
      r.worker.postMessage('cancel');
      const t = setTimeout(() => void r.worker?.terminate(), 5000);
      await r.done;
      clearTimeout(t);
    } else await r.done;
    if (r.state.status === 'running') r.state.status = 'cancelled';
  }

  async result(job: FineTuneJob): Promise<string> {
    const r = this.jobs.get(job.id);
    if (!r || r.state.status !== 'succeeded') throw new Error(`job ${job.id} has not succeeded`);
    return `local:${resolve(job.options.outputDir)}`;
  }

  summary(job: FineTuneJob): TrainSummary | undefined {
    return this.jobs.get(job.id)?.summary;
  }
}
