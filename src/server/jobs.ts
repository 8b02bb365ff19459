// Fine-tuning jobs for the server: created from uploaded JSONL files, persisted in the ServerStore,
// run one at a time through a FineTuneBackend (which trains off the event loop), polled into
// events, metrics and checkpoints.
//
// Restart policy: a job that was `validating_files` or `queued` when the server stopped is queued
// again on the next start (no work had been done). A job that was `running` is marked `failed` with
// error code `server_restarted` and a message saying so: its partial training is not resumed.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FineTuneBackend, FineTuneJob, FineTuneOptions, JobState, TrainingRecord } from '../finetune/types.ts';
import { parseJsonl } from '../finetune/records.ts';
import { validateRecords, formatProblems } from '../finetune/validate.ts';
import { InputError } from '../task/types.ts';
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
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

function evId() { return `ftevent-${randomBytes(12).toString('hex')}`; }

export class JobManager {
  private queue: string[] = [];
  private running: { id: string; handle: FineTuneJob; seen: number; timer?: NodeJS.Timeout } | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private o: JobManagerOptions) {}

  private log(m: string) { this.o.log?.(m); }

  /** Apply the restart policy to jobs left by a previous server process. */
  recover(): void {
    const pending = this.o.store.listJobs().filter((j) => !TERMINAL.has(j.status)).sort((a, b) => a.createdAt - b.createdAt);
    for (const j of pending) {
      if (j.status === 'running') {
        j.status = 'failed';
        j.finishedAt = nowSec();
        j.error = { code: 'server_restarted', message: 'The server stopped while this job was running; partial training is not resumed. Create the job again.', param: null };
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
      if (e instanceof InputError) throw badRequest(e.message, 'file', 'invalid_file');
      throw e;
    }
  }

  private loadRecords(fileId: string, param: string): TrainingRecord[] {
    const f = this.o.store.getFile(fileId);
    if (!f) throw badRequest(`invalid ${param}: ${fileId} (no such file)`, param, 'invalid_file');
    if (f.purpose !== 'fine-tune') throw badRequest(`invalid ${param}: ${fileId} has purpose '${f.purpose}', expected 'fine-tune'`, param, 'invalid_file');
    return this.checkTrainingFile(this.o.store.fileContent(fileId) ?? Buffer.alloc(0), f.filename);
  }

  async create(body: any): Promise<JobRecord> {
    if (!body || typeof body !== 'object') throw badRequest('request body must be a JSON object');
    const model = body.model;
    if (typeof model !== 'string' || !model) throw badRequest('you must provide a model parameter', 'model', 'missing_required_parameter');
    if (!this.o.fineTunableModels.includes(model)) throw badRequest(`Model ${model} is not available for fine-tuning. Available: ${this.o.fineTunableModels.join(', ')}`, 'model', 'model_not_available');
    if (typeof body.training_file !== 'string') throw badRequest('you must provide a training_file parameter', 'training_file', 'missing_required_parameter');
    const train = this.loadRecords(body.training_file, 'training_file');
    const valid = typeof body.validation_file === 'string' ? this.loadRecords(body.validation_file, 'validation_file') : undefined;
    const mtype = body.method?.type ?? 'supervised';
    if (mtype !== 'supervised') throw badRequest(`method.type '${mtype}' is not supported; only 'supervised'`, 'method.type');
    const hp = { ...(body.hyperparameters ?? {}), ...(body.method?.supervised?.hyperparameters ?? {}) };
    const d = this.o.defaults ?? {};
    const pick = (v: unknown, name: string, dflt: number, int: boolean, lo: number, hi: number): number => {
      if (v === undefined || v === null || v === 'auto') return dflt;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) throw badRequest(`hyperparameters.${name} must be 'auto' or a${int ? 'n integer' : ' number'} in [${lo}, ${hi}]`, `hyperparameters.${name}`);
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
    const seed = body.seed === undefined || body.seed === null ? Math.floor(Math.random() * 2 ** 31) : Number(body.seed);
    if (!Number.isInteger(seed)) throw badRequest('seed must be an integer', 'seed');
    const suffix = typeof body.suffix === 'string' ? body.suffix.slice(0, 64) : null;
    const id = `ftjob-${randomBytes(12).toString('hex')}`;
    const job: JobRecord = {
      id, model, status: 'validating_files', createdAt: nowSec(), finishedAt: null,
      trainingFile: body.training_file, validationFile: body.validation_file ?? null,
      hyperparameters: hyper, method, seed, suffix,
      metadata: body.metadata && typeof body.metadata === 'object' ? body.metadata : null,
      fineTunedModel: null, resultModelId: null, outputDir: join(this.o.outputRoot, id),
      trainedTokens: null, estimatedFinish: null, error: null, events: [], checkpoints: [],
    };
    if (typeof ext.rank === 'number') (job as any).rank = ext.rank;
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
      rank: (job as any).rank ?? d.rank,
      seed: job.seed,
      outputDir: job.outputDir,
    };
  }

  private addEvent(job: JobRecord, level: 'info' | 'warn' | 'error', message: string, data: Record<string, number> | null = null) {
    job.events.push({ id: evId(), createdAt: nowSec(), level, message, type: data ? 'metrics' : 'message', data });
  }

  private pump(): void {
    if (this.closed || this.running || !this.queue.length) {
      if (!this.running && !this.queue.length) { const w = this.idleWaiters; this.idleWaiters = []; w.forEach((f) => f()); }
      return;
    }
    const id = this.queue.shift()!;
    const job = this.o.store.getJob(id);
    if (!job || job.status !== 'queued') { this.pump(); return; }
    void this.run(job);
  }

  private async run(job: JobRecord): Promise<void> {
    const store = this.o.store;
    try {
      const train = this.loadRecords(job.trainingFile, 'training_file');
      const valid = job.validationFile ? this.loadRecords(job.validationFile, 'validation_file') : undefined;
      job.status = 'running';
      this.addEvent(job, 'info', 'Fine-tuning job started');
      store.putJob(job);
      const handle = await this.o.backend.start(train, { ...this.options(job), validation: valid });
      this.running = { id: job.id, handle, seen: 0 };
      job.backendJob = handle;
      store.putJob(job);
      this.schedulePoll();
    } catch (e) {
      this.finish(job, 'failed', { code: 'start_failed', message: (e as Error).message, param: null });
    }
  }

  private schedulePoll(): void {
    if (!this.running || this.closed) return;
    this.running.timer = setTimeout(() => { void this.pollOnce(); }, this.o.pollMs ?? 300);
  }

  private async pollOnce(): Promise<void> {
    const r = this.running;
    if (!r) return;
    const job = this.o.store.getJob(r.id);
    if (!job) { this.running = undefined; this.pump(); return; }
    let st: JobState;
    try {
      st = await this.o.backend.poll(r.handle);
    } catch (e) {
      this.finish(job, 'failed', { code: 'poll_failed', message: (e as Error).message, param: null });
      return;
    }
    if (job.status === 'cancelled') return; // cancel() finished it already
    this.absorb(job, st, r);
    if (st.status === 'succeeded') {
      try {
        const modelId = await this.o.backend.result(r.handle);
        job.resultModelId = modelId;
        const base = job.model.replace(/[:/\\]+/g, '-');
        job.fineTunedModel = `ft:${base}:tunelab:${job.suffix ?? ''}:${job.id.slice(-8)}`;
        job.checkpoints.push({
          id: `ftckpt-${randomBytes(12).toString('hex')}`, step: st.metrics.step ?? 0, createdAt: nowSec(), modelId: job.fineTunedModel,
          metrics: { step: st.metrics.step ?? 0, ...(st.metrics.trainLoss !== undefined ? { train_loss: st.metrics.trainLoss } : {}), ...(st.metrics.validLoss !== undefined ? { valid_loss: st.metrics.validLoss, full_valid_loss: st.metrics.validLoss } : {}) },
        });
        this.addEvent(job, 'info', `New fine-tuned model created: ${job.fineTunedModel}`);
        this.finish(job, 'succeeded', null);
      } catch (e) {
        this.finish(job, 'failed', { code: 'result_failed', message: (e as Error).message, param: null });
      }
      return;
    }
    if (st.status === 'failed' || st.status === 'cancelled') {
      this.finish(job, st.status, st.status === 'failed' ? { code: 'training_failed', message: st.error ?? 'training failed', param: null } : null);
      return;
    }
    this.o.store.putJob(job);
    this.schedulePoll();
  }

  private absorb(job: JobRecord, st: JobState, r: { seen: number }): void {
    for (const ev of st.events.slice(r.seen)) {
      job.events.push({ id: evId(), createdAt: Math.floor(ev.at / 1000) || nowSec(), level: ev.level, message: ev.message, type: ev.data ? 'metrics' : 'message', data: ev.data ?? null });
    }
    r.seen = st.events.length;
    const m = st.metrics;
    if (m.etaSec !== undefined && Number.isFinite(m.etaSec)) job.estimatedFinish = nowSec() + Math.round(m.etaSec);
    const tokens = (st as any).trainedTokens;
    if (typeof tokens === 'number') job.trainedTokens = tokens;
  }

  private finish(job: JobRecord, status: 'succeeded' | 'failed' | 'cancelled', error: JobRecord['error']): void {
    if (this.running?.id === job.id) { clearTimeout(this.running.timer); this.running = undefined; }
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
    if (TERMINAL.has(job.status)) throw new ApiError(400, `Job ${id} has already ${job.status === 'succeeded' ? 'completed' : 'failed'} and cannot be cancelled`, 'invalid_request_error', 'job_not_cancellable');
    if (this.running?.id === id) {
      const handle = this.running.handle;
      clearTimeout(this.running.timer);
      this.running = undefined;
      try { await this.o.backend.cancel(handle); } catch (e) { this.log(`cancel ${id}: ${(e as Error).message}`); }
    } else {
      this.queue = this.queue.filter((q) => q !== id);
    }
    const fresh = this.o.store.getJob(id) ?? job;
    this.finish(fresh, 'cancelled', null);
    return this.o.store.getJob(id)!;
  }

  /** Resolves when no job is running or queued. */
  idle(): Promise<void> {
    if (!this.running && !this.queue.length) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stop polling. A running job is cancelled in the backend and marked failed (`server_shutdown`). */
  async shutdown(): Promise<void> {
    this.closed = true;
    const r = this.running;
    if (r) {
      clearTimeout(r.timer);
      this.running = undefined;
      try { await this.o.backend.cancel(r.handle); } catch { /* ignore */ }
      const job = this.o.store.getJob(r.id);
      if (job && !TERMINAL.has(job.status)) {
        job.status = 'failed';
        job.finishedAt = nowSec();
        job.error = { code: 'server_shutdown', message: 'The server shut down while this job was running; partial training is not resumed. Create the job again.', param: null };
        this.addEvent(job, 'error', job.error.message);
        this.o.store.putJob(job);
      }
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
