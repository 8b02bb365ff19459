import { DEFAULT_KEY_ENV, MODEL_DEFAULTS, modelConfigSchema, type ModelConfig } from './config.ts';
import { ModelConfigError } from './errors.ts';
import { requestHash } from './hash.ts';
import {
  accountingLayer, cacheLayer, composeModel, limitLayer, requestLayer, retryLayer, timeoutLayer, wrapModel,
  type AttemptReport, type LayerContext, type ModelLayer, type ResponseCache,
} from './layers.ts';
import { endpointLimiter } from './limiter.ts';
import { priceFor } from './prices.ts';
import { anthropicProvider } from './providers/anthropic.ts';
import type { ProviderFactory, ProviderModel, ResolvedModelConfig } from './providers/common.ts';
import { openAICompatibleProvider } from './providers/openai.ts';
import type { BackoffOptions } from './retry.ts';
import type { ChatModel, ModelInfo } from './types.ts';

export type { ResponseCache } from './layers.ts';

/** One attempt's outcome (or a cache hit, attempt 0), reported through `onCall` so the store can log calls. */
export interface CallRecord extends AttemptReport {
  modelId: string;
  provider: string;
  /** the provider's model name */
  model: string;
  /** epoch ms when the attempt ended */
  at: number;
}

export interface CreateModelDeps {
  /** where keys are read from (default process.env) */
  env?: NodeJS.ProcessEnv;
  cache?: ResponseCache;
  /** bypass cache reads; successful responses are still written so later runs can use them */
  noCache?: boolean;
  onCall?: (c: CallRecord) => void;
  /** backoff tuning (tests use small values) */
  backoff?: BackoffOptions;
  /** config location for errors, default `models[<id>]` */
  where?: string;
  /**
   * Extra layers (e.g. a provider batch API), made with the model's LayerContext. They sit inside the
   * cache layer (cache hits never reach them; their answers are cached) and outside retry, limit and
   * accounting (a layer that answers a request itself does not call the model inside it). First innermost.
   */
  layers?: ((ctx: LayerContext) => ModelLayer)[];
}

/** A ChatModel made by createModel: its `info` is always set. */
export interface TunelabModel extends ChatModel {
  readonly info: ModelInfo;
}

const providers = new Map<string, ProviderFactory>();

/**
 * Adds a provider. The factory returns a bare ChatModel (no retries, cache, cost): createModel wraps it.
 * Throw AttemptError from complete() to say whether a failure is retryable; other errors are not retried.
 */
export function registerProvider(name: string, factory: ProviderFactory): void {
  providers.set(name, factory);
}

export function providerNames(): string[] {
  return [...providers.keys()].sort();
}

for (const p of ['openai', 'openai-compatible', 'ollama', 'vllm', 'llamacpp', 'lmstudio', 'together', 'groq']) {
  registerProvider(p, openAICompatibleProvider);
}
registerProvider('anthropic', anthropicProvider);

function validate(cfg: unknown, where: string): ModelConfig {
  const r = modelConfigSchema.safeParse(cfg);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw new ModelConfigError(`${where}${path}`, i.message);
}

const TOKEN_LIKE = /\b(sk-(?:ant-|proj-)?|gsk_|xai-|Bearer\s+)[A-Za-z0-9_\-*.]{6,}/g;

function redactor(secrets: string[]): (s: string) => string {
  const list = secrets.filter((s) => s && s.length >= 4);
  return (s) => {
    for (const k of list) if (s.includes(k)) s = s.split(k).join('[redacted]');
    return s.replace(TOKEN_LIKE, '$1[redacted]');
  };
}

/**
 * Builds a ChatModel from a `models:` entry: the provider's adapter wrapped with a per-endpoint
 * concurrency limit, retries (exponential backoff with full jitter on 429, 5xx, timeouts, connection
 * errors and malformed bodies; Retry-After honoured, capped), a per-attempt timeout, latency, token
 * usage, cost from the price table, the response cache and call reporting: the provider's bare model
 * with the layers of layers.ts composed once, innermost first (timeout, accounting, limit, retry,
 * deps.layers, cache, request).
 */
export function createModel(config: ModelConfig, deps: CreateModelDeps = {}): TunelabModel {
  const rawId = config && typeof config === 'object' && typeof config.id === 'string' ? config.id : '?';
  const parsed = validate(config, deps.where ?? `models[${rawId}]`);
  const where = deps.where ?? `models[${parsed.id}]`;
  const factory = providers.get(parsed.provider);
  if (!factory) {
    throw new ModelConfigError(`${where}.provider`, `unknown provider "${parsed.provider}" (known: ${providerNames().join(', ')})`);
  }
  const cfg: ResolvedModelConfig = {
    ...parsed,
    model: parsed.model ?? parsed.id,
    timeoutMs: parsed.timeoutMs ?? MODEL_DEFAULTS.timeoutMs,
    concurrency: parsed.concurrency ?? MODEL_DEFAULTS.concurrency,
    retries: parsed.retries ?? MODEL_DEFAULTS.retries,
  };
  const inner: ProviderModel = factory(cfg, { env: deps.env ?? process.env, where });
  const endpoint = inner.endpoint ?? cfg.baseURL ?? cfg.path;
  const endpointKey = `${cfg.provider}|${endpoint ?? cfg.id}`;
  const { price, known } = priceFor(cfg.provider, cfg.model, cfg.price);
  const info: ModelInfo = { provider: cfg.provider, model: cfg.model, endpoint, price, priceKnown: known, concurrency: cfg.concurrency, retries: cfg.retries, timeoutMs: cfg.timeoutMs };
  const onCall = deps.onCall;
  const ctx: LayerContext = {
    id: cfg.id, endpoint, price, priceKnown: known, timeoutMs: cfg.timeoutMs, retries: cfg.retries,
    redact: redactor(inner.secrets ?? []),
    report: onCall ? (r) => onCall({ modelId: cfg.id, provider: cfg.provider, model: cfg.model, at: Date.now(), ...r }) : () => {},
  };
  const keyHint = cfg.apiKeyEnv ?? DEFAULT_KEY_ENV[cfg.provider];
  const bare: ChatModel = wrapModel(inner, { id: cfg.id, info });
  const model = composeModel(
    bare,
    timeoutLayer(cfg.timeoutMs, Boolean(inner.handlesTimeout)),
    accountingLayer(ctx),
    limitLayer(endpointLimiter(endpointKey, cfg.concurrency)),
    retryLayer(ctx, { retries: cfg.retries, backoff: deps.backoff, endpointKey, keyHint }),
    ...(deps.layers ?? []).map((make) => make(ctx)),
    ...(deps.cache ? [cacheLayer(ctx, deps.cache, Boolean(deps.noCache))] : []),
    requestLayer(cfg, (req) => requestHash(cfg.provider, endpoint, cfg.model, req, cfg.options)),
  );
  // a layer may refine info (the batch layer sets the batch price and settings)
  return { ...model, info: model.info ?? info };
}
