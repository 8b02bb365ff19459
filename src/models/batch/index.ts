// Batch evaluation mode: a model's calls go through the provider's batch API (OpenAI Batch, Anthropic
// Message Batches) at the batch price. createModel composes it below the response cache (deps.layers).
import type { ModelConfig } from '../config.ts';
import { ModelConfigError } from '../errors.ts';
import { requestHash } from '../hash.ts';
import type { LayerContext, ModelLayer } from '../layers.ts';
import { MODEL_DEFAULTS } from '../config.ts';
import { resolveApiKey, type ResolvedModelConfig } from '../providers/common.ts';
import type { Price } from '../types.ts';
import { anthropicBatchClient } from './anthropic.ts';
import { BATCH_MAX_BYTES, batchApiOf, batchSettings, type BatchConfig } from './config.ts';
import { batchModelLayer } from './layer.ts';
import { openAIBatchClient } from './openai.ts';
import { batchState } from './state.ts';
import type { BatchClient } from './types.ts';

export { batchConfigSchema, batchSettings, batchApiOf, BATCH_DEFAULTS, BATCH_MAX_REQUESTS, BATCH_MAX_BYTES, type BatchConfig, type BatchSettings } from './config.ts';
export { BatchState, batchState, type StoredBatch } from './state.ts';
export { batchModelLayer, type BatchModelOptions } from './layer.ts';
export { openAIBatchClient } from './openai.ts';
export { anthropicBatchClient } from './anthropic.ts';
export type { BatchClient, BatchItem, BatchLine, BatchPoll } from './types.ts';

/** What the caller of createModel says about batch mode. */
export interface BatchDeps {
  /** JSON file where submitted batches are remembered (the run's output folder); without it, memory only */
  stateFile?: string;
  /** batch every model whose provider has a batch API (`tunelab run --batch`) */
  all?: boolean;
  /** batch settings from the arm (`batch:` on an arm), applied over the model's own */
  arm?: BatchConfig;
  /** progress lines (submitted, status changes, ended) */
  log?: (message: string) => void;
  /** where keys are read from (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** config location for errors, e.g. models[0] */
  where?: string;
}

/** The model's price in batch mode: the configured price × (1 − batchDiscount), default half price. */
export function batchPrice(price: Price, batchDiscount?: number): Price {
  const f = 1 - (batchDiscount ?? 0.5);
  const p: Price = { input: price.input * f, output: price.output * f };
  if (price.perHour != null) p.perHour = price.perHour;
  return p;
}

/**
 * The layers createModel needs for batch mode (pass as deps.layers): one when the model's `batch`, the
 * arm's `batch` or `--batch` (deps.all) turns it on, none otherwise. `batch:` on a provider without a
 * batch API is a ModelConfigError; `--batch` leaves such models (local, Ollama, ...) live.
 */
export function batchLayers(config: ModelConfig, deps: BatchDeps = {}): ((ctx: LayerContext) => ModelLayer)[] {
  const where = deps.where ?? `models[${config.id}]`;
  const explicit = (config.batch !== undefined && config.batch !== false) || (deps.arm !== undefined && deps.arm !== false);
  if (!explicit && !deps.all) return [];
  const api = batchApiOf(config.provider);
  if (!api) {
    if (!explicit) return [];
    throw new ModelConfigError(`${where}.batch`, `provider ${config.provider} has no batch API (batch mode works with openai, anthropic and OpenAI-compatible servers that offer /v1/batches)`);
  }
  const settings = batchSettings(config.provider, deps.all ? true : undefined, config.batch, deps.arm);
  if (!settings) return [];
  const cfg: ResolvedModelConfig = {
    ...config,
    model: config.model ?? config.id,
    timeoutMs: config.timeoutMs ?? MODEL_DEFAULTS.timeoutMs,
    concurrency: config.concurrency ?? MODEL_DEFAULTS.concurrency,
    retries: config.retries ?? MODEL_DEFAULTS.retries,
  };
  const pdeps = { env: deps.env ?? process.env, where };
  const key = resolveApiKey(cfg, pdeps, api === 'anthropic' || cfg.provider !== 'openai-compatible');
  return [
    (ctx: LayerContext) => {
      const endpoint = ctx.endpoint ?? cfg.baseURL;
      if (!endpoint) throw new ModelConfigError(`${where}.baseURL`, 'batch mode needs the provider base URL');
      // uploads and results files are larger than one call: give them room
      const control = Math.max(cfg.timeoutMs, 120_000);
      const client: BatchClient = api === 'anthropic' ? anthropicBatchClient(cfg, endpoint, key!, control) : openAIBatchClient(cfg, endpoint, key, control);
      return batchModelLayer(ctx, {
        client,
        settings,
        maxBytes: BATCH_MAX_BYTES[api],
        state: batchState(deps.stateFile),
        model: cfg.model,
        price: batchPrice(ctx.price, config.price?.batchDiscount),
        hashOf: (req) => requestHash(cfg.provider, endpoint, cfg.model, req, cfg.options),
        log: deps.log,
      });
    },
  ];
}
