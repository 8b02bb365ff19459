export type Role = 'system' | 'user' | 'assistant';
export interface ChatMessage { role: Role; content: string }

export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  /**
   * A closed answer set (classification). Models that can score candidates (local models) answer with
   * the most likely choice; other providers ignore it and generate freely (the output parser extracts the label).
   */
  choices?: string[];
}

export interface Usage { input: number; output: number }

export interface ChatResponse {
  text: string;
  usage: Usage;
  latencyMs: number;
  /** USD, from the model's price table (0 for local models unless a compute price per hour is set). */
  costUsd: number;
  /** true when served from the response cache (latency and cost are those of the original call). */
  cached?: boolean;
  raw?: unknown;
}

export interface CompleteOptions {
  signal?: AbortSignal;
  /** passed through to createModel's onCall records (e.g. run, arm, example id) so the store can attribute calls */
  meta?: Record<string, unknown>;
  /** per-attempt time limit, set by createModel's wrapper for providers that enforce it themselves */
  timeoutMs?: number;
}

/** Every provider, the local engine included, is one of these. */
export interface ChatModel {
  /** The config id, e.g. "gpt-4o-mini" or "local:models/tunelab-base". */
  readonly id: string;
  complete(request: ChatRequest, options?: CompleteOptions): Promise<ChatResponse>;
  /** Optional: score fixed candidate answers by log-likelihood (local models). Higher is better. */
  scoreCandidates?(request: ChatRequest, candidates: string[]): Promise<number[]>;
  /** Optional: embeddings, where the provider offers them (used by few-shot kNN selection). */
  embed?(texts: string[]): Promise<number[][]>;
}

/** Prices in USD per 1M tokens; `perHour` for local compute (cost = latency share of an hour). */
export interface Price { input: number; output: number; perHour?: number }

/** A model error with the request named; `retryable` drives backoff. */
export class ModelError extends Error {
  constructor(public modelId: string, message: string, public status?: number, public retryable = false) {
    super(`${modelId}: ${message}`);
    this.name = 'ModelError';
  }
}
