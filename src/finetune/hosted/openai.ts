// FineTuneBackend for the OpenAI fine-tuning jobs API and every server of that shape (tunelab serve,
// gateways): upload a JSONL file with purpose "fine-tune", create a job with method supervised (dpo when
// preference pairs are given), poll it with its events and checkpoints, cancel it. The tuned model
// (`fine_tuned_model`) answers through the same base URL's /chat/completions.
// OpenAI itself accepts no new fine-tuning jobs after 2027-01-06.
import type { FineTuneJob, JobEvent, JobStatus, Problem, TrainingRecord } from '../types.ts';
import { HttpClient } from './http.ts';
import { hostedEstimate, toJsonlLines, validateForProvider } from './common.ts';
import type { HostedBackend, HostedBackendOptions, HostedEstimate, HostedFineTuneOptions, HostedJobState } from './types.ts';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

const STATUS: Record<string, JobStatus> = {
  validating_files: 'validating_files',
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  pausing: 'running',
  paused: 'queued',
};

/** Per-example token limit by base model (OpenAI's fine-tuning guide); servers of the same shape may differ. */
function exampleLimit(model: string): number | undefined {
  if (/^gpt-3\.5/.test(model)) return 16_385;
  if (/^gpt-4o-mini|^gpt-4\.1/.test(model)) return 65_536;
  if (/^gpt-4o/.test(model)) return 65_536;
  return undefined;
}

export class OpenAIFineTuneBackend implements HostedBackend {
  readonly name = 'openai';
  readonly provider = 'openai' as const;
  readonly baseURL: string;
  private http: HttpClient;
  private seenEvents = new Map<string, Map<string, JobEvent>>();

  constructor(private o: HostedBackendOptions = {}) {
    this.baseURL = (o.baseURL ?? OPENAI_BASE_URL).replace(/\/+$/, '');
    this.http = new HttpClient({
      baseURL: this.baseURL,
      apiKey: o.apiKey,
      provider: 'openai',
      retries: o.retries,
      backoff: o.backoff,
      timeoutMs: o.timeoutMs,
      onRetry: o.onRetry,
    });
  }

  async validate(data: TrainingRecord[], opts: HostedFineTuneOptions): Promise<Problem[]> {
    const problems = validateForProvider('OpenAI fine-tuning', data, opts, {
      minRecords: 10,
      maxTokensPerRecord: exampleLimit(opts.baseModel),
      maxFileBytes: 512 * 1024 * 1024,
      methods: ['lora', 'full'],
      epochs: [1, 50],
    });
    if (opts.rank !== undefined && opts.method === 'lora')
      problems.push({
        level: 'warning',
        message: 'the OpenAI jobs API chooses its own adapter settings: rank, alpha and target modules are not sent',
      });
    return problems;
  }

  async estimate(data: TrainingRecord[], opts: HostedFineTuneOptions): Promise<HostedEstimate> {
    return hostedEstimate('openai', data, opts, this.o);
  }

  async start(data: TrainingRecord[], opts: HostedFineTuneOptions, signal?: AbortSignal): Promise<FineTuneJob> {
    const dpo = Boolean(opts.preferences?.length);
    const rows = dpo ? opts.preferences! : data.map((r) => ({ messages: r.messages }));
    const train = await this.http.multipart<{ id: string }>(
      '/files',
      { purpose: 'fine-tune' },
      { field: 'file', name: 'train.jsonl', data: toJsonlLines(rows) },
      signal,
    );
    let validationFile: string | undefined;
    if (!dpo && opts.validation?.length) {
      const v = await this.http.multipart<{ id: string }>(
        '/files',
        { purpose: 'fine-tune' },
        { field: 'file', name: 'dev.jsonl', data: toJsonlLines(opts.validation.map((r) => ({ messages: r.messages }))) },
        signal,
      );
      validationFile = v.id;
    }
    const hyperparameters: Record<string, unknown> = { n_epochs: opts.epochs };
    if (opts.batchSize !== undefined) hyperparameters.batch_size = opts.batchSize;
    if (opts.learningRateMultiplier !== undefined) hyperparameters.learning_rate_multiplier = opts.learningRateMultiplier;
    const method = dpo ? { type: 'dpo', dpo: { hyperparameters } } : { type: 'supervised', supervised: { hyperparameters } };
    const body: Record<string, unknown> = {
      ...(this.o.extraBody ?? {}),
      model: opts.baseModel,
      training_file: train.id,
      method,
      seed: opts.seed,
      ...(validationFile ? { validation_file: validationFile } : {}),
      ...(opts.suffix ? { suffix: opts.suffix.slice(0, 64) } : {}),
    };
    const job = await this.http.json<{ id: string; created_at?: number }>('POST', '/fine_tuning/jobs', body, signal);
    return {
      id: job.id,
      backend: this.name,
      options: { ...opts, validation: undefined, preferences: undefined } as HostedFineTuneOptions,
      createdAt: (job.created_at ?? Math.floor(Date.now() / 1000)) * 1000,
    };
  }

  async poll(job: FineTuneJob): Promise<HostedJobState> {
    const id = encodeURIComponent(job.id);
    const j = await this.http.json<any>('GET', `/fine_tuning/jobs/${id}`);
    const evs = await this.http
      .json<{ data?: any[] }>('GET', `/fine_tuning/jobs/${id}/events?limit=100`)
      .catch(() => ({ data: [] as any[] }));
    const seen = this.seenEvents.get(job.id) ?? new Map<string, JobEvent>();
    this.seenEvents.set(job.id, seen);
    const metrics: HostedJobState['metrics'] = {};
    // events come newest first
    for (const e of [...(evs.data ?? [])].reverse()) {
      const d = e.data && typeof e.data === 'object' ? e.data : undefined;
      if (d && typeof d.step === 'number') {
        metrics.step = d.step;
        if (typeof d.total_steps === 'number') metrics.totalSteps = d.total_steps;
        if (typeof d.train_loss === 'number') metrics.trainLoss = d.train_loss;
        if (typeof d.valid_loss === 'number') metrics.validLoss = d.valid_loss;
      }
      const key = String(e.id ?? `${e.created_at}:${e.message}`);
      if (!seen.has(key)) {
        const numeric = d
          ? (Object.fromEntries(Object.entries(d).filter(([, v]) => typeof v === 'number')) as Record<string, number>)
          : undefined;
        seen.set(key, {
          at: (Number(e.created_at) || 0) * 1000,
          level: e.level === 'error' ? 'error' : e.level === 'warn' ? 'warn' : 'info',
          message: String(e.message ?? ''),
          ...(numeric && Object.keys(numeric).length ? { data: numeric } : {}),
        });
      }
    }
    const providerStatus = String(j.status ?? 'unknown');
    const status = STATUS[providerStatus] ?? 'running';
    return {
      status,
      providerStatus,
      events: [...seen.values()],
      metrics,
      ...(typeof j.trained_tokens === 'number' ? { trainedTokens: j.trained_tokens } : {}),
      ...(typeof j.fine_tuned_model === 'string' && j.fine_tuned_model ? { fineTunedModel: j.fine_tuned_model } : {}),
      ...(status === 'failed'
        ? {
            error: j.error?.message
              ? `${j.error.message}${j.error.code ? ` (${j.error.code})` : ''}`
              : 'the job failed (no message from the server)',
          }
        : {}),
    };
  }

  /** The job's checkpoints (newest first), as the API lists them. */
  async checkpoints(job: FineTuneJob): Promise<{ model: string; step: number; metrics: Record<string, number> }[]> {
    const r = await this.http.json<{ data?: any[] }>('GET', `/fine_tuning/jobs/${encodeURIComponent(job.id)}/checkpoints`);
    return (r.data ?? []).map((c) => ({
      model: String(c.fine_tuned_model_checkpoint),
      step: Number(c.step_number),
      metrics: c.metrics ?? {},
    }));
  }

  async cancel(job: FineTuneJob): Promise<void> {
    await this.http.json('POST', `/fine_tuning/jobs/${encodeURIComponent(job.id)}/cancel`);
  }

  async result(job: FineTuneJob): Promise<string> {
    const st = await this.poll(job);
    if (st.status !== 'succeeded' || !st.fineTunedModel) throw new Error(`job ${job.id} has not succeeded (status ${st.providerStatus})`);
    return st.fineTunedModel;
  }
}
