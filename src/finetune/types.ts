import type { ChatMessage } from '../models/types.ts';

/** A chat training record, OpenAI's fine-tuning JSONL shape. */
export interface TrainingRecord {
  messages: ChatMessage[];
}

export interface Problem {
  level: 'error' | 'warning';
  message: string;
  index?: number;
}

export interface FineTuneOptions {
  baseModel: string;
  method: 'lora' | 'full';
  epochs: number;
  learningRate: number;
  batchSize?: number;
  rank?: number;
  alpha?: number;
  dropout?: number;
  targetModules?: string[];
  seed: number;
  outputDir: string;
  /** validation records (dev split) for validation loss and early stopping */
  validation?: TrainingRecord[];
  maxSteps?: number;
  /**
   * Local training: write a resumable checkpoint here every `checkpointEvery` optimizer steps; a job
   * started again with the same data, options and checkpointDir continues from the last checkpoint
   * (identical losses to an uninterrupted run).
   */
  checkpointDir?: string;
  /** optimizer steps between checkpoints (default: at each validation) */
  checkpointEvery?: number;
}

export interface Estimate {
  tokens: number;
  steps: number;
  costUsd: number;
  seconds: number;
  note?: string;
}

export type JobStatus = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobEvent {
  at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  data?: Record<string, number>;
}

export interface FineTuneJob {
  id: string;
  backend: string;
  options: FineTuneOptions;
  createdAt: number;
}

/** What a finished training run reports (local backend: also written to <output>/training.json). */
export interface TrainSummary {
  method: 'lora' | 'full';
  /** optimizer steps in total (a resumed job counts the steps before the resume too) */
  steps: number;
  epochs: number;
  examples: number;
  validation: number;
  trainedTokens: number;
  losses: number[];
  valLosses: { step: number; loss: number }[];
  initialValLoss?: number;
  bestValLoss?: number;
  bestStep?: number;
  stoppedEarly: boolean;
  seconds: number;
  tokensPerSec: number;
  trainableParams: number;
  outputDir: string;
  adapterDir?: string;
  /** the step a resumed job continued from (its checkpoint); absent when it started at step 0 */
  resumedFromStep?: number;
}

/** Progress as the backend last reported it. */
export interface JobMetrics {
  step?: number;
  totalSteps?: number;
  trainLoss?: number;
  validLoss?: number;
  tokensPerSec?: number;
  etaSec?: number;
  elapsedSec?: number;
  /** target tokens trained on so far */
  trainedTokens?: number;
}

export interface JobState {
  status: JobStatus;
  /** every event so far, oldest first (a poller remembers how many it has seen) */
  events: JobEvent[];
  metrics: JobMetrics;
  error?: string;
  /** set once the job has succeeded, where the backend knows it */
  summary?: TrainSummary;
}

export interface FineTuneBackend {
  readonly name: string;
  validate(data: TrainingRecord[], opts: FineTuneOptions): Promise<Problem[]>;
  estimate(data: TrainingRecord[], opts: FineTuneOptions): Promise<Estimate>;
  start(data: TrainingRecord[], opts: FineTuneOptions): Promise<FineTuneJob>;
  poll(job: FineTuneJob): Promise<JobState>;
  cancel(job: FineTuneJob): Promise<void>;
  /** The model id usable as a ChatModel, e.g. `local:/path/to/output`. */
  result(job: FineTuneJob): Promise<string>;
  /** Optional: resolves when the job reaches a terminal state (lets a poller notice completion at once). */
  wait?(job: FineTuneJob): Promise<JobState>;
}
