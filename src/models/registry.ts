import { MODEL_DEFAULTS, modelConfigSchema, type ModelConfig } from './config.ts';
import { AttemptError, ModelCallError, ModelConfigError, type CallErrorKind } from './errors.ts';
import { requestHash } from './hash.ts';
import { endpointLimiter, type Semaphore } from './limiter.ts';
import { costOf, priceFor } from './prices.ts';
import { anthropicProvider } from './providers/anthropic.ts';
import type { ProviderDeps, ProviderFactory, ProviderModel, ResolvedModelConfig } from './providers/common.ts';
import { openAICompatibleProvider } from './providers/openai.ts';
import { retryDelay, sleep, type BackoffOptions } from './retry.ts';
import { ModelError, type ChatModel, type ChatRequest, type ChatResponse, type CompleteOptions, type Price, type Usage } from './types.ts';

/** A response cache (the store implements it). Only successful responses are ever put. */
export interface ResponseCache {
  get(key: string): ChatResponse | undefined;
  put(key: string, modelId: string, resp: ChatResponse): void;
}

/** One attempt's outcome (or a cache hit, attempt 0), reported through `onCall` so the store can log calls. */
export interface CallRecord {
  modelId: string;
  provider: string;
  /** the provider's model name */
  model: string;
  /** requestHash(...) of the effective request: the cache key */
  hash: string;
  /** the effective request (config temperature / maxTokens merged in) */
  request: ChatRequest;
  /** 1-based attempt number; 0 for a cache hit */
  attempt: number;
  cached: boolean;
  ok: boolean;
  response?: { text: string };
  /** sanitized one-line error of this attempt (no headers, no keys) */
  error?: string;
  errorKind?: CallErrorKind;
  status?: number;
  usage: Usage;
  latencyMs: number;
  costUsd: number;
  /** epoch ms when the attempt ended */
  at: number;
  /** whatever the caller passed in CompleteOptions.meta (run, arm, example id) */
  meta?: Record<string, unknown>;
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
}

/** A ChatModel made by createModel: adds what it resolved to. */
export interface TunelabModel extends ChatModel {
  readonly info: {
    provider: string;
    model: string;
    endpoint?: string;
    price: Price;
    /** false when a hosted model has no known price (its cost shows as 0) */
    priceKnown: boolean;
    concurrency: number;
    retries: number;
    timeoutMs: number;
  };
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

/** Endpoints that just failed as unreachable: further calls fail at once until this time (epoch ms). */
const deadUntil = new Map<string, number>();
const DEAD_MS = 10_000;

function validate(cfg: unknown, where: string): ModelConfig {
  const r = modelConfigSchema.safeParse(cfg);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw new ModelConfigError(`${where}${path}`, i.message);
}

const tokenCount = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

function redactor(secrets: string[]): (s: string) => string {
  const list = secrets.filter((s) => s && s.length >= 4);
  if (!list.length) return (s) => s;
  return (s) => {
    for (const k of list) if (s.includes(k)) s = s.split(k).join('[redacted]');
    return s;
  };
}

/**
 * Builds a ChatModel from a `models:` entry: the provider's adapter wrapped with a per-endpoint
 * concurrency limit, retries (exponential backoff with full jitter on 429, 5xx, timeouts, connection
 * errors and malformed bodies; Retry-After honoured, capped), a per-attempt timeout, latency, token
 * usage, cost from the price table, the response cache and call reporting.
 */
export function createModel(config: ModelConfig, deps: CreateModelDeps = {}): TunelabModel {
  const where0 = deps.where ?? `models[${(config as any)?.id ?? '?'}]`;
  const parsed = validate(config, where0);
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
  const pdeps: ProviderDeps = { env: deps.env ?? process.env, where };
  const inner: ProviderModel = factory(cfg, pdeps);
  const endpoint = inner.endpoint ?? cfg.baseURL ?? cfg.path;
  const limiter: Semaphore = endpointLimiter(`${cfg.provider}|${endpoint ?? cfg.id}`, cfg.concurrency);
  const deadKey = `${cfg.provider}|${endpoint ?? cfg.id}`;
  const { price, known } = priceFor(cfg.provider, cfg.model, cfg.price);
  const redact = redactor(inner.secrets ?? []);
  const { cache, noCache, onCall } = deps;
  const backoff = deps.backoff ?? {};

  function effective(req: ChatRequest): ChatRequest {
    const r: ChatRequest = { ...req };
    if (r.temperature == null && cfg.temperature != null) r.temperature = cfg.temperature;
    if (r.maxTokens == null && cfg.maxTokens != null) r.maxTokens = cfg.maxTokens;
    return r;
  }

  function report(c: Omit<CallRecord, 'modelId' | 'provider' | 'model' | 'at'>) {
    if (!onCall) return;
    onCall({ modelId: cfg.id, provider: cfg.provider, model: cfg.model, at: Date.now(), ...c });
  }

  async function complete(request: ChatRequest, options: CompleteOptions = {}): Promise<ChatResponse> {
    const req = effective(request);
    const hash = requestHash(cfg.provider, endpoint, cfg.model, req, cfg.options);
    const meta = options.meta;
    if (cache && !noCache) {
      const hit = cache.get(hash);
      if (hit) {
        report({ hash, request: req, attempt: 0, cached: true, ok: true, response: { text: hit.text }, usage: hit.usage, latencyMs: hit.latencyMs, costUsd: hit.costUsd, meta });
        return { ...hit, cached: true };
      }
    }
    const dead = deadUntil.get(deadKey);
    if (dead && dead > Date.now()) {
      throw new ModelCallError(cfg.id, hash, 'unreachable', `cannot connect to ${endpoint} (failed moments ago; not retrying)`, 0, undefined, endpoint);
    }
    const maxAttempts = cfg.retries + 1;
    let unreachableTries = 0;
    for (let attempt = 1; ; attempt++) {
      const outer = options.signal;
      if (outer?.aborted) throw abortError(hash, attempt - 1);
      await limiter.acquire(outer);
      // Providers that enforce timeoutMs themselves (the SDK adapters) get the caller's signal as is;
      // for the others the wrapper aborts the attempt through its own controller.
      let ac: AbortController | undefined;
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      let onOuter: (() => void) | undefined;
      if (!inner.handlesTimeout) {
        const c = (ac = new AbortController());
        timer = setTimeout(() => {
          timedOut = true;
          c.abort(new Error('timeout'));
        }, cfg.timeoutMs);
        if (outer) {
          onOuter = () => c.abort(outer.reason);
          outer.addEventListener('abort', onOuter, { once: true });
        }
      }
      const t0 = performance.now();
      let failure: AttemptError | undefined;
      let result: ChatResponse | undefined;
      try {
        const r = await inner.complete(req, ac ? { signal: ac.signal } : { signal: outer, timeoutMs: cfg.timeoutMs });
        const latencyMs = performance.now() - t0;
        if (!r || typeof r.text !== 'string') throw new AttemptError('malformed', 'provider returned no text', true);
        const usage = { input: tokenCount(r.usage?.input), output: tokenCount(r.usage?.output) };
        result = { text: r.text, usage, latencyMs, costUsd: costOf(price, usage, latencyMs) };
      } catch (e) {
        if (outer?.aborted) failure = new AttemptError('aborted', 'aborted by caller', false);
        else if (timedOut || (e instanceof AttemptError && e.kind === 'timeout')) failure = new AttemptError('timeout', `timed out after ${cfg.timeoutMs} ms`, true);
        else if (outer?.aborted) failure = new AttemptError('aborted', 'aborted by caller', false);
        else failure = toAttemptError(e);
        failure.message = redact(failure.message);
        report({
          hash, request: req, attempt, cached: false, ok: false, error: failure.message, errorKind: failure.kind, status: failure.status,
          usage: { input: 0, output: 0 }, latencyMs: performance.now() - t0, costUsd: 0, meta,
        });
      } finally {
        if (timer) clearTimeout(timer);
        if (onOuter) outer!.removeEventListener('abort', onOuter);
        limiter.release();
      }
      if (result) {
        deadUntil.delete(deadKey);
        report({ hash, request: req, attempt, cached: false, ok: true, response: { text: result.text }, usage: result.usage, latencyMs: result.latencyMs, costUsd: result.costUsd, meta });
        if (cache) cache.put(hash, cfg.id, result);
        return result;
      }
      // failed attempt
      const f = failure!;
      if (f.kind === 'aborted') throw abortError(hash, attempt);
      let last = !f.retryable || attempt >= maxAttempts;
      if (f.kind === 'unreachable') {
        // a refused connection is usually a wrong URL: retry briefly (server starting up), then fail fast
        unreachableTries++;
        if (unreachableTries > Math.min(2, cfg.retries)) last = true;
      }
      if (last) {
        if (f.kind === 'unreachable') deadUntil.set(deadKey, Date.now() + DEAD_MS);
        throw new ModelCallError(cfg.id, hash, f.kind, f.message, attempt, f.status, endpoint);
      }
      const wait = f.kind === 'unreachable' ? Math.min(250, retryDelay(attempt, undefined, backoff)) : retryDelay(attempt, f.retryAfterMs, backoff);
      try {
        await sleep(wait, outer);
      } catch {
        throw abortError(hash, attempt);
      }
    }
  }

  function abortError(hash: string, attempts: number) {
    return new ModelCallError(cfg.id, hash, 'aborted', 'aborted by caller', attempts, undefined, endpoint);
  }

  function toAttemptError(e: unknown): AttemptError {
    if (e instanceof AttemptError) return e;
    if (e instanceof ModelError) return new AttemptError('other', e.message, e.retryable, e.status);
    const m = (e as any)?.message;
    return new AttemptError('other', typeof m === 'string' ? m.slice(0, 300) : String(e).slice(0, 300), false);
  }

  const model: TunelabModel = {
    id: cfg.id,
    info: { provider: cfg.provider, model: cfg.model, endpoint, price, priceKnown: known, concurrency: cfg.concurrency, retries: cfg.retries, timeoutMs: cfg.timeoutMs },
    complete,
  };
  if (inner.scoreCandidates) {
    const sc = inner.scoreCandidates.bind(inner);
    (model as any).scoreCandidates = (req: ChatRequest, candidates: string[]) => limiter.run(() => sc(effective(req), candidates));
  }
  if (inner.embed) {
    const em = inner.embed.bind(inner);
    (model as any).embed = async (texts: string[]) => {
      try {
        return await limiter.run(() => em(texts));
      } catch (e) {
        const f = toAttemptError(e);
        throw new ModelError(cfg.id, `embeddings: ${redact(f.message)}`, f.status, f.retryable);
      }
    };
  }
  return model;
}
