import type { ChatMessage } from '../../models/types.ts';
import type { BackoffOptions } from '../../models/index.ts';
import type { Estimate, FineTuneBackend, FineTuneJob, FineTuneOptions, JobState, TrainingRecord } from '../types.ts';

/** A preference pair (OpenAI's DPO record shape): the same prompt with a preferred and a rejected answer. */
export interface PreferenceRecord {
  input: { messages: ChatMessage[] };
  preferred_output: ChatMessage[];
  non_preferred_output: ChatMessage[];
}

/** Options a hosted job takes on top of the shared ones. */
export interface HostedFineTuneOptions extends FineTuneOptions {
  /** preference pairs: the job uses DPO (where the provider offers it) instead of supervised training */
  preferences?: PreferenceRecord[];
  /** added to the tuned model's name where the provider supports it */
  suffix?: string;
  /** longest training sequence, tokens (Together max_seq_length, Fireworks maxContextLength) */
  maxSeqLen?: number;
  /** OpenAI-shaped APIs take a multiplier of their own learning rate instead of a learning rate */
  learningRateMultiplier?: number;
}

export interface HostedBackendOptions {
  /** the provider's API base URL (default: its public one) */
  baseURL?: string;
  /** the key itself, read by the caller from the environment variable the config names; never stored */
  apiKey?: string;
  /** USD per 1M trained tokens by base model name: overrides or extends the built-in table */
  prices?: Record<string, number>;
  /** USD per 1M trained tokens for every job of this backend (wins over `prices`) */
  trainingPrice?: number;
  /** time between polls, ms (default 10000) */
  pollMs?: number;
  retries?: number;
  backoff?: BackoffOptions;
  timeoutMs?: number;
  /** Fireworks: the account id in /v1/accounts/{account}/... */
  account?: string;
  /** OpenAI-shaped servers: extra JSON merged into the job-create body (e.g. tunelab serve's {"tunelab": {"method": "lora"}}) */
  extraBody?: Record<string, unknown>;
  onRetry?: (info: { attempt: number; status?: number; waitMs: number; message: string }) => void;
}

/** A poll's result with what a hosted provider adds: its own status word, trained tokens, cost, the tuned model. */
export interface HostedJobState extends JobState {
  providerStatus: string;
  trainedTokens?: number;
  costUsd?: number;
  fineTunedModel?: string;
}

/** A hosted estimate: tokens the provider will bill, price used and where it came from. */
export interface HostedEstimate extends Estimate {
  pricePerMTok?: number;
  priceSource: 'config' | 'table' | 'unknown';
}

export interface HostedBackend extends FineTuneBackend {
  readonly provider: 'openai' | 'together' | 'fireworks';
  readonly baseURL: string;
  estimate(data: TrainingRecord[], opts: HostedFineTuneOptions): Promise<HostedEstimate>;
  start(data: TrainingRecord[], opts: HostedFineTuneOptions, signal?: AbortSignal): Promise<FineTuneJob>;
  poll(job: FineTuneJob): Promise<HostedJobState>;
}
