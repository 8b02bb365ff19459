// FineTuneBackend for Fireworks AI: create a dataset record (POST /accounts/{a}/datasets), upload the
// JSONL (POST .../datasets/{id}:upload), wait until the dataset's state is READY, then create a
// supervised fine-tuning job (POST .../supervisedFineTuningJobs: LoRA only, loraRank, epochs,
// learningRate, maxContextLength), poll its state (JOB_STATE_*), cancel it (POST ...:cancel). The tuned
// model (`outputModel`, accounts/{a}/models/{id}) answers through Fireworks' OpenAI-compatible
// inference API (https://api.fireworks.ai/inference/v1) once deployed (serverless LoRA or a deployment).
import { randomBytes } from 'node:crypto';
import type { FineTuneJob, JobStatus, Problem, TrainingRecord } from '../types.ts';
import { HttpClient, sleep } from './http.ts';
import { hostedEstimate, toJsonlLines, validateForProvider } from './common.ts';
import type { HostedBackend, HostedBackendOptions, HostedEstimate, HostedFineTuneOptions, HostedJobState } from './types.ts';

export const FIREWORKS_BASE_URL = 'https://api.fireworks.ai/v1';
export const FIREWORKS_INFERENCE_URL = 'https://api.fireworks.ai/inference/v1';

const STATUS: Record<string, JobStatus> = {
  JOB_STATE_UNSPECIFIED: 'queued',
  JOB_STATE_CREATING: 'validating_files',
  JOB_STATE_VALIDATING: 'validating_files',
  JOB_STATE_PENDING: 'queued',
  JOB_STATE_RUNNING: 'running',
  JOB_STATE_WRITING_RESULTS: 'running',
  JOB_STATE_EVALUATION: 'running',
  JOB_STATE_ROLLOUT: 'running',
  JOB_STATE_COMPLETED: 'succeeded',
  JOB_STATE_EARLY_STOPPED: 'succeeded',
  JOB_STATE_FAILED: 'failed',
  JOB_STATE_EXPIRED: 'failed',
  JOB_STATE_FAILED_CLEANING_UP: 'failed',
  JOB_STATE_CANCELLED: 'cancelled',
  JOB_STATE_DELETING: 'cancelled',
  JOB_STATE_DELETING_CLEANING_UP: 'cancelled',
  JOB_STATE_PAUSED: 'queued',
  JOB_STATE_RE_QUEUEING: 'queued',
};

/** A base model name in Fireworks' resource form (a bare id is one of Fireworks' own models). */
export function fireworksModelName(model: string): string {
  return model.startsWith('accounts/') ? model : `accounts/fireworks/models/${model}`;
}

const idPart = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'tunelab';

export class FireworksFineTuneBackend implements HostedBackend {
  readonly name = 'fireworks';
  readonly provider = 'fireworks' as const;
  readonly baseURL: string;
  private http: HttpClient;
  private account: string;
  private states = new Map<string, string>();

  constructor(private o: HostedBackendOptions = {}) {
    this.baseURL = (o.baseURL ?? FIREWORKS_BASE_URL).replace(/\/+$/, '');
    if (!o.account) throw new Error('fireworks: an account id is needed (arm config `account:`)');
    this.account = o.account;
    this.http = new HttpClient({
      baseURL: this.baseURL,
      apiKey: o.apiKey,
      provider: 'fireworks',
      retries: o.retries,
      backoff: o.backoff,
      timeoutMs: o.timeoutMs,
      onRetry: o.onRetry,
    });
  }

  private get acct(): string {
    return `/accounts/${encodeURIComponent(this.account)}`;
  }

  async validate(data: TrainingRecord[], opts: HostedFineTuneOptions): Promise<Problem[]> {
    // 3 to 3,000,000 examples; LoRA only, rank at most 32 (Fireworks' fine-tuning guide)
    const problems = validateForProvider('Fireworks', data, opts, {
      minRecords: 3,
      maxRecords: 3_000_000,
      methods: ['lora'],
      maxRank: 32,
      maxTokensPerRecord: opts.maxSeqLen,
    });
    if (opts.preferences?.length)
      problems.push({
        level: 'error',
        message: 'Fireworks preference tuning uses its own DPO job type; this backend runs supervised jobs only',
      });
    return problems;
  }

  async estimate(data: TrainingRecord[], opts: HostedFineTuneOptions): Promise<HostedEstimate> {
    return hostedEstimate('fireworks', data, opts, this.o);
  }

  private async dataset(id: string, records: TrainingRecord[], signal?: AbortSignal): Promise<string> {
    await this.http.json(
      'POST',
      `${this.acct}/datasets`,
      { datasetId: id, dataset: { userUploaded: {}, exampleCount: String(records.length) } },
      signal,
    );
    await this.http.multipart(
      `${this.acct}/datasets/${id}:upload`,
      {},
      { field: 'file', name: `${id}.jsonl`, data: toJsonlLines(records.map((r) => ({ messages: r.messages }))) },
      signal,
    );
    const deadline = Date.now() + 10 * 60_000;
    for (let i = 0; ; i++) {
      const d = await this.http.json<{ state?: string; status?: { code?: string; message?: string } }>(
        'GET',
        `${this.acct}/datasets/${id}`,
        undefined,
        signal,
      );
      if (d.state === 'READY') return `accounts/${this.account}/datasets/${id}`;
      if (d.status?.code && d.status.code !== 'OK')
        throw new Error(`fireworks: dataset ${id} was not accepted: ${d.status.message ?? d.status.code}`);
      if (Date.now() > deadline) throw new Error(`fireworks: dataset ${id} not READY after 10 minutes (state ${d.state})`);
      await sleep(Math.min(5000, 200 * 2 ** Math.min(i, 5)), signal);
    }
  }

  async start(data: TrainingRecord[], opts: HostedFineTuneOptions, signal?: AbortSignal): Promise<FineTuneJob> {
    const tag = `${idPart(opts.suffix ?? 'tunelab')}-${randomBytes(4).toString('hex')}`;
    const dataset = await this.dataset(`${tag}-train`, data, signal);
    const evaluationDataset = opts.validation?.length ? await this.dataset(`${tag}-dev`, opts.validation, signal) : undefined;
    const body: Record<string, unknown> = {
      displayName: `tunelab ${tag}`,
      dataset,
      baseModel: fireworksModelName(opts.baseModel),
      outputModel: `accounts/${this.account}/models/${tag}`,
      epochs: opts.epochs,
      learningRate: opts.learningRate,
      loraRank: opts.rank ?? 8,
      ...(opts.maxSeqLen ? { maxContextLength: opts.maxSeqLen } : {}),
      ...(opts.batchSize ? { batchSizeSamples: opts.batchSize } : {}),
      ...(evaluationDataset ? { evaluationDataset } : {}),
    };
    const job = await this.http.json<{ name: string; createTime?: string }>(
      'POST',
      `${this.acct}/supervisedFineTuningJobs?supervisedFineTuningJobId=${tag}`,
      body,
      signal,
    );
    const id =
      String(job.name ?? '')
        .split('/')
        .pop() || tag;
    return {
      id,
      backend: this.name,
      options: { ...opts, validation: undefined } as HostedFineTuneOptions,
      createdAt: Date.parse(job.createTime ?? '') || Date.now(),
    };
  }

  async poll(job: FineTuneJob): Promise<HostedJobState> {
    const j = await this.http.json<any>('GET', `${this.acct}/supervisedFineTuningJobs/${encodeURIComponent(job.id)}`);
    const providerStatus = String(j.state ?? 'JOB_STATE_UNSPECIFIED');
    const status = STATUS[providerStatus] ?? 'running';
    // Fireworks has no events list for these jobs: state changes become the events
    const prev = this.states.get(job.id);
    this.states.set(job.id, providerStatus);
    const events =
      prev === providerStatus
        ? []
        : [
            {
              at: Date.now(),
              level: status === 'failed' ? ('error' as const) : ('info' as const),
              message: `state ${providerStatus}${j.status?.message ? `: ${j.status.message}` : ''}`,
            },
          ];
    const p = j.jobProgress ?? {};
    const tokens = Number(p.inputTokens ?? 0) + Number(p.outputTokens ?? 0);
    const cost = j.estimatedCost ? Number(j.estimatedCost.units ?? 0) + Number(j.estimatedCost.nanos ?? 0) / 1e9 : undefined;
    return {
      status,
      providerStatus,
      events,
      metrics: { ...(typeof p.percent === 'number' ? { step: p.percent, totalSteps: 100 } : {}) },
      ...(tokens > 0 ? { trainedTokens: tokens } : {}),
      ...(cost !== undefined && cost > 0 ? { costUsd: cost } : {}),
      ...(typeof j.outputModel === 'string' && j.outputModel && status === 'succeeded' ? { fineTunedModel: j.outputModel } : {}),
      ...(status === 'failed' ? { error: String(j.status?.message ?? `the job ended in ${providerStatus}`) } : {}),
    };
  }

  async cancel(job: FineTuneJob): Promise<void> {
    await this.http.json('POST', `${this.acct}/supervisedFineTuningJobs/${encodeURIComponent(job.id)}:cancel`, {});
  }

  async result(job: FineTuneJob): Promise<string> {
    const st = await this.poll(job);
    if (st.status !== 'succeeded' || !st.fineTunedModel) throw new Error(`job ${job.id} has not completed (state ${st.providerStatus})`);
    return st.fineTunedModel;
  }
}
