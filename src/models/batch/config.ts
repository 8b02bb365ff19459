import { z } from 'zod';

/**
 * `batch:` on a models[] entry (or an arm): `true`, or settings. Calls then go through the provider's
 * batch API (OpenAI Batch, Anthropic Message Batches): half price, outside the rate limits, answers
 * within the provider's 24 h window.
 */
export const batchConfigSchema = z.union([
  z.boolean(),
  z.strictObject({
    /** requests per batch (default: the provider's limit, 50,000 for OpenAI, 100,000 for Anthropic) */
    maxRequests: z.number().int().min(1).max(100_000).optional(),
    /** seconds between status polls (default 30) */
    pollSeconds: z.number().positive().max(3600).optional(),
    /** a batch is sent when no new request has come for this long, ms (default 1000) */
    idleMs: z.number().int().min(0).max(600_000).optional(),
  }),
]);

export type BatchConfig = z.infer<typeof batchConfigSchema>;

export interface BatchSettings {
  maxRequests: number;
  pollMs: number;
  idleMs: number;
}

/** Per-request limits documented by each provider for one batch. */
export const BATCH_MAX_REQUESTS: Record<string, number> = { openai: 50_000, anthropic: 100_000 };
/** Size limits of one batch: OpenAI's input file (200 MB), Anthropic's request (256 MB), with room for overhead. */
export const BATCH_MAX_BYTES: Record<string, number> = { openai: 190_000_000, anthropic: 240_000_000 };
export const BATCH_DEFAULTS = { pollSeconds: 30, idleMs: 1000, maxRequests: 50_000 } as const;

/** The settings for a config value; undefined when batching is off. */
export function batchSettings(provider: string, ...configs: (BatchConfig | undefined)[]): BatchSettings | undefined {
  let on = false;
  let merged: Exclude<BatchConfig, boolean> = {};
  for (const c of configs) {
    if (c === undefined) continue;
    if (c === false) {
      on = false;
      continue;
    }
    on = true;
    if (c !== true) merged = { ...merged, ...c };
  }
  if (!on) return undefined;
  const cap = BATCH_MAX_REQUESTS[batchApiOf(provider) ?? ''] ?? BATCH_DEFAULTS.maxRequests;
  return {
    maxRequests: Math.min(cap, merged.maxRequests ?? cap),
    pollMs: Math.round((merged.pollSeconds ?? BATCH_DEFAULTS.pollSeconds) * 1000),
    idleMs: merged.idleMs ?? BATCH_DEFAULTS.idleMs,
  };
}

/**
 * Which batch API a provider speaks: 'anthropic' for anthropic, 'openai' for OpenAI and the
 * OpenAI-compatible servers that copy its Batch API (Together, Groq, or any base URL the user points
 * at); undefined for local models and self-hosted servers known to have none.
 */
export function batchApiOf(provider: string): 'openai' | 'anthropic' | undefined {
  if (provider === 'anthropic') return 'anthropic';
  if (provider === 'openai' || provider === 'openai-compatible' || provider === 'together' || provider === 'groq') return 'openai';
  return undefined;
}
