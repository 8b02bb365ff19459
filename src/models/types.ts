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
  /**
   * CPU time this answer costs, ms. Local models: the tokens the call ran × a per-token compute model calibrated once on
   * the machine (models/local-compute.ts), so machine load does not change it. A price's perHour charges it instead of
   * the latency.
   */
  cpuMs?: number;
  /** local models: the process CPU time actually measured around the call, ms (moves with machine load) */
  measuredCpuMs?: number;
  /** why generation ended, where the provider says: 'stop' (end of turn or a stop sequence) or 'length' (maxTokens) */
  finishReason?: FinishReason;
  raw?: unknown;
}

export type FinishReason = 'stop' | 'length';

export interface CompleteOptions {
  signal?: AbortSignal;
  /** passed through to createModel's onCall records (e.g. run, arm, example id) so the store can attribute calls */
  meta?: Record<string, unknown>;
  /** per-attempt time limit, set by createModel's wrapper for providers that enforce it themselves */
  timeoutMs?: number;
  /**
   * The request's cache key (requestHash of the effective request), set by createModel's outermost
   * layer for the layers inside it: the cache, call records, and a batch layer's custom_id.
   */
  requestHash?: string;
  /** 1-based attempt number, set by createModel's retry layer for the layers inside it */
  attempt?: number;
}

/** What createModel resolved a `models:` entry to. */
export interface ModelInfo {
  provider: string;
  /** the provider's model name */
  model: string;
  /** base URL, or a provider-supplied identity (local:<folder>) */
  endpoint?: string;
  price: Price;
  /** false when a hosted model has no known price (its cost shows as 0) */
  priceKnown: boolean;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  /** set when calls go through the provider's batch API (price is then the batch price) */
  batch?: { maxRequests: number; pollMs: number; idleMs: number };
}

/** Receives text as it is generated; the pieces joined are the response's text. */
export type OnDelta = (text: string) => void;

/** Every provider, the local engine included, is one of these. */
export interface ChatModel {
  /** The config id, e.g. "gpt-4o-mini" or "local:models/tunelab-base". */
  readonly id: string;
  complete(request: ChatRequest, options?: CompleteOptions): Promise<ChatResponse>;
  /** Optional: what the model resolved to (createModel sets it). */
  readonly info?: ModelInfo;
  /** Optional: generate with text deltas as they come (the local model); resolves like complete(). */
  stream?(request: ChatRequest, onDelta: OnDelta, options?: CompleteOptions): Promise<ChatResponse>;
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
