// FineTuneBackend for Together AI: upload the JSONL (POST /files/upload, purpose fine-tune), create a job
// (POST /fine-tunes: training_type Lora with lora_r / lora_alpha / lora_dropout / lora_trainable_modules,
// or Full; training_method sft, or dpo for preference pairs; n_epochs, learning_rate, batch_size), poll
// it (GET /fine-tunes/{id} and /events), cancel it (POST /fine-tunes/{id}/cancel). The tuned model
// (`output_name`) answers through Together's OpenAI-compatible /chat/completions at the same base URL.
// Together reports the trained tokens (token_count) and the price (total_price, in nanodollars).
import type { FineTuneJob, JobEvent, JobStatus, Problem, TrainingRecord } from '../types.ts';
import { HttpClient } from './http.ts';
import { hostedEstimate, toJsonlLines, validateForProvider } from './common.ts';
import type { HostedBackend, HostedBackendOptions, HostedEstimate, HostedFineTuneOptions, HostedJobState } from './types.ts';

export const TOGETHER_BASE_URL = 'https://api.together.xyz/v1';

const STATUS: Record<string, JobStatus> = {
  pending: 'queued',
  queued: 'queued',
  running: 'running',
  compressing: 'running',
  uploading: 'running',
  cancel_requested: 'running',
  cancelled: 'cancelled',
  error: 'failed',
  user_error: 'failed',
  completed: 'succeeded',
};

export class TogetherFineTuneBackend implements HostedBackend {
  readonly name = 'together';
  readonly provider = 'together' as const;
  readonly baseURL: string;
  private http: HttpClient;

  constructor(private o: HostedBackendOptions = {}) {
    this.baseURL = (o.baseURL ?? TOGETHER_BASE_URL).replace(/\/+$/, '');
    this.http = new HttpClient({
      baseURL: this.baseURL,
      apiKey: o.apiKey,
      provider: 'together',
      retries: o.retries,
      backoff: o.backoff,
      timeoutMs: o.timeoutMs,
      onRetry: o.onRetry,
    });
  }

  async validate(data: TrainingRecord[], opts: HostedFineTuneOptions): Promise<Problem[]> {
    // n_epochs 1..20 and files up to 25 GB (Together's fine-tuning reference); the per-example limit is the model's max_seq_length
    return validateForProvider('Together', data, opts, {
      minRecords: 1,
      maxFileBytes: 25 * 1024 ** 3,
      methods: ['lora', 'full'],
      epochs: [1, 20],
    });
  }

  async estimate(data: TrainingRecord[], opts: HostedFineTuneOptions): Promise<HostedEstimate> {
    return hostedEstimate('together', data, opts, this.o);
  }

  private async upload(name: string, rows: unknown[], signal?: AbortSignal): Promise<string> {
    const r = await this.http.multipart<{ id: string }>(
      '/files/upload',
      { purpose: 'fine-tune', file_name: name, file_type: 'jsonl' },
      { field: 'file', name, data: toJsonlLines(rows) },
      signal,
    );
    return r.id;
  }

  async start(data: TrainingRecord[], opts: HostedFineTuneOptions, signal?: AbortSignal): Promise<FineTuneJob> {
    const dpo = Boolean(opts.preferences?.length);
    const trainingFile = await this.upload('train.jsonl', dpo ? opts.preferences! : data.map((r) => ({ messages: r.messages })), signal);
    const validationFile =
      !dpo && opts.validation?.length
        ? await this.upload(
            'dev.jsonl',
            opts.validation.map((r) => ({ messages: r.messages })),
            signal,
          )
        : undefined;
    const trainingType =
      opts.method === 'full'
        ? { type: 'Full' }
        : {
            type: 'Lora',
            lora_r: opts.rank ?? 8,
            lora_alpha: opts.alpha ?? 2 * (opts.rank ?? 8),
            lora_dropout: opts.dropout ?? 0,
            lora_trainable_modules: opts.targetModules?.length ? opts.targetModules.join(',') : 'all-linear',
          };
    const body: Record<string, unknown> = {
      training_file: trainingFile,
      model: opts.baseModel,
      n_epochs: opts.epochs,
      n_checkpoints: 1,
      learning_rate: opts.learningRate,
      batch_size: opts.batchSize ?? 'max',
      training_type: trainingType,
      training_method: { method: dpo ? 'dpo' : 'sft' },
      ...(validationFile ? { validation_file: validationFile, n_evals: Math.max(1, opts.epochs) } : {}),
      ...(opts.suffix ? { suffix: opts.suffix.slice(0, 40) } : {}),
      ...(opts.maxSeqLen ? { max_seq_length: opts.maxSeqLen } : {}),
      ...(dpo ? {} : { train_on_inputs: 'auto' }),
    };
    const job = await this.http.json<{ id: string }>('POST', '/fine-tunes', body, signal);
    return {
      id: job.id,
      backend: this.name,
      options: { ...opts, validation: undefined, preferences: undefined } as HostedFineTuneOptions,
      createdAt: Date.now(),
    };
  }

  async poll(job: FineTuneJob): Promise<HostedJobState> {
    const id = encodeURIComponent(job.id);
    const j = await this.http.json<any>('GET', `/fine-tunes/${id}`);
    let rawEvents: any[] = Array.isArray(j.events) ? j.events : [];
    if (!rawEvents.length)
      rawEvents =
        (await this.http.json<{ data?: any[] }>('GET', `/fine-tunes/${id}/events`).catch(() => ({ data: [] as any[] }))).data ?? [];
    const events: JobEvent[] = rawEvents.map((e) => ({
      at: Date.parse(String(e.created_at ?? '')) || 0,
      level: /error/i.test(String(e.level ?? '')) ? 'error' : /warn/i.test(String(e.level ?? '')) ? 'warn' : 'info',
      message: String(e.message ?? e.type ?? ''),
      ...(typeof e.step === 'number'
        ? { data: { step: e.step, ...(typeof e.total_steps === 'number' ? { total_steps: e.total_steps } : {}) } }
        : {}),
    }));
    const metrics: HostedJobState['metrics'] = {};
    for (const e of rawEvents) {
      if (typeof e.step === 'number') metrics.step = e.step;
      if (typeof e.total_steps === 'number') metrics.totalSteps = e.total_steps;
    }
    const providerStatus = String(j.status ?? 'unknown');
    const status = STATUS[providerStatus] ?? 'running';
    const output = j.output_name ?? j.model_output_name;
    const lastError = [...events].reverse().find((e) => e.level === 'error')?.message;
    return {
      status,
      providerStatus,
      events,
      metrics,
      ...(typeof j.token_count === 'number' && j.token_count > 0 ? { trainedTokens: j.token_count } : {}),
      ...(typeof j.total_price === 'number' && j.total_price > 0 ? { costUsd: j.total_price / 1e9 } : {}),
      ...(typeof output === 'string' && output ? { fineTunedModel: output } : {}),
      ...(status === 'failed' ? { error: String(j.error ?? j.message ?? lastError ?? `the job ended with status ${providerStatus}`) } : {}),
    };
  }

  async cancel(job: FineTuneJob): Promise<void> {
    await this.http.json('POST', `/fine-tunes/${encodeURIComponent(job.id)}/cancel`);
  }

  async result(job: FineTuneJob): Promise<string> {
    const st = await this.poll(job);
    if (st.status !== 'succeeded' || !st.fineTunedModel) throw new Error(`job ${job.id} has not completed (status ${st.providerStatus})`);
    return st.fineTunedModel;
  }
}
