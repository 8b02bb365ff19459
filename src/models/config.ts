import { z } from 'zod';
import { batchConfigSchema } from './batch/config.ts';

/** Defaults applied by createModel when a field is absent. */
export const MODEL_DEFAULTS = {
  timeoutMs: 60_000,
  concurrency: 8,
  retries: 4,
} as const;

/** Default env var holding the key, per hosted provider. `openai-compatible` has none (no key sent unless apiKeyEnv is set). */
export const DEFAULT_KEY_ENV: Record<string, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  together: 'TOGETHER_API_KEY',
  groq: 'GROQ_API_KEY',
};

const SECRET_OPTION = /^(api[-_]?key|apikey|key|token|secret|password|authorization|auth[-_]?token|access[-_]?token)$/i;

export const priceSchema = z.strictObject({
  /** USD per 1M input tokens */
  input: z.number().nonnegative(),
  /** USD per 1M output tokens */
  output: z.number().nonnegative(),
  /** USD per hour of compute (local models): cost += latency / 3600 s × perHour */
  perHour: z.number().nonnegative().optional(),
  /** share taken off input and output prices for calls sent through a batch API (default 0.5: half price) */
  batchDiscount: z.number().min(0).max(1).optional(),
});

/**
 * One entry of `models:` in tunelab.yaml. Holds the NAME of the env var with the key, never the key:
 * a secret-looking key under `options` is rejected.
 */
export const modelConfigSchema = z
  .strictObject({
    id: z.string().min(1),
    /** openai | openai-compatible | anthropic | local | ollama | vllm | llamacpp | lmstudio | together | groq | any registered provider */
    provider: z.string().min(1),
    /** the provider's model name; default: id */
    model: z.string().min(1).optional(),
    baseURL: z.string().url().optional(),
    /** name of the env var that holds the API key (default OPENAI_API_KEY / ANTHROPIC_API_KEY for hosted providers) */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as OPENAI_API_KEY')
      .optional(),
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().positive().optional(),
    /** per attempt, default 60000 */
    timeoutMs: z.number().int().positive().optional(),
    /** requests in flight per endpoint, default 8 */
    concurrency: z.number().int().positive().max(1024).optional(),
    /** retries after the first attempt, default 4 */
    retries: z.number().int().min(0).max(20).optional(),
    /** USD per 1M tokens (overrides the built-in table) */
    price: priceSchema.optional(),
    /** local model folder or file (provider local) */
    path: z.string().min(1).optional(),
    /** extra provider options; for HTTP providers they are sent as extra request-body fields */
    options: z.record(z.string(), z.unknown()).optional(),
    /** send this model's calls through the provider's batch API (OpenAI Batch, Anthropic Message Batches): true or {maxRequests, pollSeconds, idleMs} */
    batch: batchConfigSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    for (const k of Object.keys(cfg.options ?? {})) {
      if (SECRET_OPTION.test(k)) {
        ctx.addIssue({
          code: 'custom',
          path: ['options', k],
          message: 'secrets do not belong in the config: put the key in an environment variable and name it in apiKeyEnv',
        });
      }
    }
  });

export type ModelConfig = z.infer<typeof modelConfigSchema>;
export type PriceConfig = z.infer<typeof priceSchema>;
