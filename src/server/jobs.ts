// Fine-tuning jobs for the server: created from uploaded JSONL files, persisted in the ServerStore,
// run one at a time through a FineTuneBackend (which trains off the event loop), polled into
// events, metrics and checkpoints.
//
// Restart policy: a job that was `validating_files` or `queued` when the server stopped is queued
// again on the next start (no work had been done). A job that was `running` is marked `failed` with
// error code `server_restarted` and a message saying so: its partial training is not resumed.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  formatProblems,
  parseJsonl,
  runToCompletion,
  isTerminal,
  JobLifecycleError,
  type FineTuneBackend,
  type FineTuneOptions,
  type JobState,
  type TrainingRecord,
} from '../finetune/index.ts';
import { isBadInput } from '../core/index.ts';
import { ApiError, badRequest, notFound } from './errors.ts';
import type { JobRecord, ServerStore } from './store.ts';

export interface JobManagerOptions {
  store: ServerStore;
  backend: FineTuneBackend;
  /** folder under which each job writes its output (one sub-folder per job) */
  outputRoot: string;
  /** base models that may be fine-tuned */
  fineTunableModels: string[];
  /** defaults when a request says "auto" */
  defaults?: { epochs?: number; batchSize?: number; learningRate?: number; method?: 'lora' | 'full'; rank?: number };
  pollMs?: number;
  log?(message: string): void;
}

const nowSec = () => Math.floor(Date.now() / 1000);

/** The request body of POST /v1/fine_tuning/jobs, as far as tunelab reads it. */
interface CreateJobBody {
  model?: unknown;
  training_file?: unknown;
  validation_file?: unknown;
  hyperparameters?: Record<string, unknown>;
  method?: { type?: unknown; supervised?: { hyperparameters?: Record<string, unknown> } };
  tunelab?: { method?: unknown; rank?: unknown };
  seed?: unknown;
  suffix?: unknown;
  metadata?: unknown;
}

function evId() {
  return `ftevent-${randomBytes(12).toString('hex')}`;
}

export class JobManager {
  private queue: string[] = [];
  /** the job being trained: aborting `ac` cancels it in the backend; `done` settles when run() has recorded the outcome */
  private running: { id: string; ac: AbortController; done: Promise<void>; cancelling?: boolean } | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private o: JobManagerOptions) {}

  private log(m: string) {
    this.o.log?.(m);
  }

  /** Apply the restart policy to jobs left by a previous server process. */
  recover(): void {
    const pending = this.o.store
      .listJobs()
      .filter((j) => !isTerminal(j.status))
      .sort((a, b) => a.createdAt - b.createdAt);
    for (const j of pending) {
      if (j.status === 'running') {
        j.status = 'failed';
        j.finishedAt = nowSec();
        j.error = {
          code: 'server_restarted',
          message: 'The server stopped while this job was running; partial training is not resumed. Create the job again.',
          param: null,
        };
        this.addEvent(j, 'error', j.error.message);
        this.o.store.putJob(j);
      } else {
        this.addEvent(j, 'info', 'Server restarted; job queued again');
        j.status = 'queued';
        this.o.store.putJob(j);
        this.queue.push(j.id);
      }
    }
    this.pump();
  }

  checkTrainingFile(data: Buffer, name: string): TrainingRecord[] {
    try {
      const recs = parseJsonl(data.toString('utf8'), name);
      if (!recs.length) throw badRequest(`${name}: the file has no records`, 'file', 'invalid_file');
      return recs;
    } catch (e) {
      if (isBadInput(e)) throw badRequest((e as Error).message, 'file', 'invalid_file');
      throw e;
    }
  }

  private loadRecords(fileId: string, param: string): TrainingRecord[] {
    const f = this.o.store.getFile(fileId);
    if (!f) throw badRequest(`invalid ${param}: ${fileId} (no such file)`, param, 'invalid_file');
    if (f.purpose !== 'fine-tune')
      throw badRequest(`invalid ${param}: ${fileId} has purpose '${f.purpose}', expected 'fine-tune'`, param, 'invalid_file');
    return this.checkTrainingFile(this.o.store.fileContent(fileId) ?? Buffer.alloc(0), f.filename);
  }

  async create(input: unknown): Promise<JobRecord> {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw badRequest('request body must be a JSON object');
    const body = input as CreateJobBody;
    const model = body.model;
    if (typeof model !== 'string' || !model) throw badRequest('you must provide a model parameter', 'model', 'missing_required_parameter');
    if (!this.o.fineTunableModels.includes(model))
      throw badRequest(
        `Model ${model} is not available for fine-tuning. Available: ${this.o.fineTunableModels.join(', ')}`,
        'model',
        'model_not_available',
      );
    if (typeof body.training_file !== 'string')
      throw badRequest('you must provide a training_file parameter', 'training_file', 'missing_required_parameter');
    const train = this.loadRecords(body.training_file, 'training_file');
    const validationFile = typeof body.validation_file === 'string' ? body.validation_file : null;
    const valid = validationFile ? this.loadRecords(validationFile, 'validation_file') : undefined;
    const mtype = body.method?.type ?? 'supervised';
    if (mtype !== 'supervised') throw badRequest(`method.type '${mtype}' is not supported; only 'supervised'`, 'method.type');
    const hp = { ...(body.hyperparameters ?? {}), ...(body.method?.supervised?.hyperparameters ?? {}) };
    const d = this.o.defaults ?? {};
    const pick = (v: unknown, name: string, dflt: number, int: boolean, lo: number, hi: number): number => {
      if (v === undefined || v === null || v === 'auto') return dflt;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v)))
        throw badRequest(
          `hyperparameters.${name} must be 'auto' or a${int ? 'n integer' : ' number'} in [${lo}, ${hi}]`,
          `hyperparameters.${name}`,
        );
      return v;
    };
    const hyper = {
      n_epochs: pick(hp.n_epochs, 'n_epochs', d.epochs ?? 3, true, 1, 50),
      batch_size: pick(hp.batch_size, 'batch_size', d.batchSize ?? 8, true, 1, 256),
      learning_rate_multiplier: pick(hp.learning_rate_multiplier, 'learning_rate_multiplier', 1, false, 1e-4, 100),
    };
    // tunelab extension: { "tunelab": { "method": "lora" | "full", "rank": 8 } }
    const ext = body.tunelab ?? {};
    const method = ext.method ?? d.method ?? 'lora';
    if (method !== 'lora' && method !== 'full') throw badRequest("tunelab.method must be 'lora' or 'full'", 'tunelab.method');
    if (ext.rank !== undefined && (typeof ext.rank !== 'number' || !Number.isInteger(ext.rank) || ext.rank < 1))
      throw badRequest('tunelab.rank must be a positive integer', 'tunelab.rank');
    const seed = body.seed === undefined || body.seed === null ? Math.floor(Math.random() * 2 ** 31) : Number(body.seed);
    if (!Number.isInteger(seed)) throw badRequest('seed must be an integer', 'seed');
    const suffix = typeof body.suffix === 'string' ? body.suffix.slice(0, 64) : null;
    const id = `ftjob-${randomBytes(12).toString('hex')}`;
    const job: JobRecord = {
      id,
      model,
      status: 'validating_files',
      createdAt: nowSec(),
      finishedAt: null,
      trainingFile: body.training_file,
      validationFile,
      hyperparameters: hyper,
      method,
      seed,
      suffix,
      metadata: body.metadata && typeof body.metadata === 'object' ? (body.metadata as Record<string, string>) : null,
      fineTunedModel: null,
      resultModelId: null,
      outputDir: join(this.o.outputRoot, id),
      trainedTokens: null,
      estimatedFinish: null,
      error: null,
      events: [],
      checkpoints: [],
    };
    if (typeof ext.rank === 'number') job.rank = ext.rank;
    this.addEvent(job, 'info', `Validating training file: ${body.training_file}`);
    const problems = await this.o.backend.validate(train, { ...this.options(job), validation: valid });
    for (const p of problems.filter((x) => x.level === 'warning').slice(0, 10)) this.addEvent(job, 'warn', p.message);
    const errors = problems.filter((p) => p.level === 'error');
    if (errors.length) {
      job.status = 'failed';
      job.finishedAt = nowSec();
      job.error = { code: 'invalid_training_file', message: formatProblems(errors), param: 'training_file' };
      this.addEvent(job, 'error', job.error.message);
    } else {
      job.status = 'queued';
      this.addEvent(job, 'info', 'Files validated, job queued');
      this.queue.push(id);
    }
    this.o.store.putJob(job);
    this.pump();
    return job;
  }

  private options(job: JobRecord): FineTuneOptions {
    const d = this.o.defaults ?? {};
    const baseLr = d.learningRate ?? (job.method === 'lora' ? 2e-3 : 3e-4);
    return {
      baseModel: job.model,
      method: job.method,
      epochs: job.hyperparameters.n_epochs,
      batchSize: job.hyperparameters.batch_size,
      learningRate: baseLr * job.hyperparameters.learning_rate_multiplier,
      rank: job.rank ?? d.rank,
      seed: job.seed,
      outputDir: job.outputDir,
    };
  }

  private addEvent(job: JobRecord, level: 'info' | 'warn' | 'error', message: string, data: Record<string, number> | null = null) {
    job.events.push({ id: evId(), createdAt: nowSec(), level, message, type: data ? 'metrics' : 'message', data });
  }

  private pump(): void {
    if (this.closed || this.running || !this.queue.length) {
      if (!this.running && !this.queue.length) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        w.forEach((f) => f());
      }
      return;
    }
    const id = this.queue.shift()!;
    const job = this.o.store.getJob(id);
    if (!job || job.status !== 'queued') {
      this.pump();
      return;
    }
    void this.run(job);
  }

  private run(job: JobRecord): void {
    const ac = new AbortController();
    const r: NonNullable<JobManager['running']> = { id: job.id, ac, done: Promise.resolve() };
    this.running = r;
    r.done = this.train(job, r).catch((e) => this.log(`job ${job.id}: ${(e as Error).message}`));
  }

  /** One job through the shared fine-tune lifecycle; every event and progress change is written to the store. */
  private async train(job: JobRecord, r: NonNullable<JobManager['running']>): Promise<void> {
    const store = this.o.store;
    let started = false;
    try {
      const train = this.loadRecords(job.trainingFile, 'training_file');
      const valid = job.validationFile ? this.loadRecords(job.validationFile, 'validation_file') : undefined;
      job.status = 'running';
      this.addEvent(job, 'info', 'Fine-tuning job started');
      store.putJob(job);
      const { state, modelId } = await runToCompletion(
        this.o.backend,
        train,
        { ...this.options(job), validation: valid },
        {
          signal: r.ac.signal,
          pollMs: this.o.pollMs ?? 300,
          onJob: (handle) => {
            started = true;
            job.backendJob = handle;
            store.putJob(job);
          },
          onEvent: (ev) => {
            job.events.push({
              id: evId(),
              createdAt: Math.floor(ev.at / 1000) || nowSec(),
              level: ev.level,
              message: ev.message,
              type: ev.data ? 'metrics' : 'message',
              data: ev.data ?? null,
            });
          },
          onProgress: (st) => {
            this.absorb(job, st);
            if (!isTerminal(st.status)) store.putJob(job);
          },
        },
      );
      if (this.closed) return this.failRunning(job, 'server_shutdown');
      if (state.status === 'succeeded' && modelId) {
        job.resultModelId = modelId;
        const base = job.model.replace(/[:/\\]+/g, '-');
        job.fineTunedModel = `ft:${base}:tunelab:${job.suffix ?? ''}:${job.id.slice(-8)}`;
        const m = state.metrics;
        job.checkpoints.push({
          id: `ftckpt-${randomBytes(12).toString('hex')}`,
          step: m.step ?? 0,
          createdAt: nowSec(),
          modelId: job.fineTunedModel,
          metrics: {
            step: m.step ?? 0,
            ...(m.trainLoss !== undefined ? { train_loss: m.trainLoss } : {}),
            ...(m.validLoss !== undefined ? { valid_loss: m.validLoss, full_valid_loss: m.validLoss } : {}),
          },
        });
        this.addEvent(job, 'info', `New fine-tuned model created: ${job.fineTunedModel}`);
        this.finish(job, 'succeeded', null);
      } else if (state.status === 'cancelled' || r.cancelling) {
        this.finish(job, 'cancelled', null);
      } else {
        this.finish(job, 'failed', { code: 'training_failed', message: state.error ?? 'training failed', param: null });
      }
    } catch (e) {
      if (this.closed) return this.failRunning(job, 'server_shutdown');
      const phase = e instanceof JobLifecycleError ? e.phase : started ? 'poll' : 'start';
      this.finish(job, 'failed', { code: `${phase}_failed`, message: (e as Error).message, param: null });
    }
  }

  private absorb(job: JobRecord, st: JobState): void {
    const m = st.metrics;
    if (m.etaSec !== undefined && Number.isFinite(m.etaSec)) job.estimatedFinish = nowSec() + Math.round(m.etaSec);
    const tokens = st.summary?.trainedTokens ?? m.trainedTokens;
    if (typeof tokens === 'number') job.trainedTokens = tokens;
  }

  private failRunning(job: JobRecord, code: 'server_shutdown' | 'server_restarted'): void {
    if (this.running?.id === job.id) this.running = undefined;
    if (isTerminal(job.status)) return;
    job.status = 'failed';
    job.finishedAt = nowSec();
    job.estimatedFinish = null;
    job.error = {
      code,
      message: `The server ${code === 'server_shutdown' ? 'shut down' : 'stopped'} while this job was running; partial training is not resumed. Create the job again.`,
      param: null,
    };
    this.addEvent(job, 'error', job.error.message);
    this.o.store.putJob(job);
  }

  private finish(job: JobRecord, status: 'succeeded' | 'failed' | 'cancelled', error: JobRecord['error']): void {
    if (this.running?.id === job.id) this.running = undefined;
    job.status = status;
    job.finishedAt = nowSec();
    job.error = error;
    job.estimatedFinish = null;
    if (error) this.addEvent(job, 'error', error.message);
    if (status === 'succeeded') this.addEvent(job, 'info', 'The job has successfully completed');
    if (status === 'cancelled') this.addEvent(job, 'info', 'The job was cancelled');
    this.o.store.putJob(job);
    this.log(`job ${job.id} ${status}${error ? `: ${error.message}` : ''}`);
    this.pump();
  }

  async cancel(id: string): Promise<JobRecord> {
    const job = this.o.store.getJob(id);
    if (!job) throw notFound(`Could not find fine-tuning job ${id}`, 'fine_tuning_job_id');
    if (job.status === 'cancelled') return job;
    if (isTerminal(job.status))
      throw new ApiError(
        400,
        `Job ${id} has already ${job.status === 'succeeded' ? 'completed' : 'failed'} and cannot be cancelled`,
        'invalid_request_error',
        'job_not_cancellable',
      );
    const r = this.running;
    if (r?.id === id) {
      // the lifecycle cancels the job in the backend and run() records it as cancelled
      r.cancelling = true;
      r.ac.abort();
      await r.done;
    } else {
      this.queue = this.queue.filter((q) => q !== id);
      this.finish(this.o.store.getJob(id) ?? job, 'cancelled', null);
    }
    return this.o.store.getJob(id)!;
  }

  /** Resolves when no job is running or queued. */
  idle(): Promise<void> {
    if (!this.running && !this.queue.length) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stop. A running job is cancelled in the backend and marked failed (`server_shutdown`). */
  async shutdown(): Promise<void> {
    this.closed = true;
    const r = this.running;
    if (r) {
      r.ac.abort();
      await r.done;
    }
  }

  toApi(j: JobRecord) {
    return {
      id: j.id,
      object: 'fine_tuning.job',
      created_at: j.createdAt,
      error: j.error,
      fine_tuned_model: j.fineTunedModel,
      finished_at: j.finishedAt,
      hyperparameters: j.hyperparameters,
      model: j.model,
      organization_id: 'org-tunelab',
      result_files: [],
      seed: j.seed,
      status: j.status,
      trained_tokens: j.trainedTokens,
      training_file: j.trainingFile,
      validation_file: j.validationFile,
      estimated_finish: j.estimatedFinish,
      integrations: null,
      metadata: j.metadata,
      suffix: j.suffix,
      method: { type: 'supervised', supervised: { hyperparameters: j.hyperparameters } },
      tunelab: { method: j.method, output_dir: j.outputDir, model_id: j.resultModelId },
    };
  }
}
