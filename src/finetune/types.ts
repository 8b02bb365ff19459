import type { ChatMessage } from '../models/types.ts';

/** A chat training record, OpenAI's fine-tuning JSONL shape. */
export interface TrainingRecord { messages: ChatMessage[] }

export interface Problem { level: 'error' | 'warning'; message: string; index?: number }

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
}

export interface Estimate { tokens: number; steps: number; costUsd: number; seconds: number; note?: string }

export type JobStatus = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobEvent { at: number; level: 'info' | 'warn' | 'error'; message: string; data?: Record<string, number> }

export interface FineTuneJob { id: string; backend: string; options: FineTuneOptions; createdAt: number }

export interface JobState {
  status: JobStatus;
  events: JobEvent[];
  metrics: { step?: number; totalSteps?: number; trainLoss?: number; validLoss?: number; tokensPerSec?: number; etaSec?: number; elapsedSec?: number };
  error?: string;
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
}
