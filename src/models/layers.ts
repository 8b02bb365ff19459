// A ChatModel stays small; what createModel adds (cache, retries, limits, accounting) are layers, each a
// function from a model to a model, composed once (the AI SDK's wrapLanguageModel pattern).
import { childSignal, sleep } from './abort.ts';
import { AttemptError, ModelCallError, type CallErrorKind } from './errors.ts';
import type { Semaphore } from './limiter.ts';
import { costOf } from './prices.ts';
import { retryDelay, type BackoffOptions } from './retry.ts';
import { ModelError, type ChatModel, type ChatRequest, type ChatResponse, type CompleteOptions, type OnDelta, type Price, type Usage } from './types.ts';

/** A layer: takes the model inside it, returns the model seen from outside. Build it with wrapModel. */
export type ModelLayer = (inner: ChatModel) => ChatModel;

/** The parts of a ChatModel a layer may replace; everything else is forwarded from the inner model. */
export type ModelOverrides = Partial<Pick<ChatModel, 'complete' | 'stream' | 'scoreCandidates' | 'embed'>> & { id?: string; info?: ChatModel['info'] };

/**
 * The one wrapper helper: a ChatModel with the inner model's id, info and every capability it has
 * (stream, scoreCandidates, embed), except those given in `over`. A capability the inner model lacks
 * stays absent unless `over` adds it.
 */
export function wrapModel(inner: ChatModel, over: ModelOverrides = {}): ChatModel {
  const out: { -readonly [K in keyof ChatModel]: ChatModel[K] } = {
    id: over.id ?? inner.id,
    complete: over.complete ?? ((r, o) => inner.complete(r, o)),
  };
  const info = over.info ?? inner.info;
  if (info) out.info = info;
  const stream = over.stream ?? (inner.stream && ((r: ChatRequest, d: OnDelta, o?: CompleteOptions) => inner.stream!(r, d, o)));
  if (stream) out.stream = stream;
  const score = over.scoreCandidates ?? (inner.scoreCandidates && ((r: ChatRequest, c: string[]) => inner.scoreCandidates!(r, c)));
  if (score) out.scoreCandidates = score;
  const embed = over.embed ?? (inner.embed && ((t: string[]) => inner.embed!(t)));
  if (embed) out.embed = embed;
  return out;
}

/** Applies layers to a model, the first one innermost: composeModel(p, a, b) is b(a(p)). */
export function composeModel(base: ChatModel, ...layers: ModelLayer[]): ChatModel {
  return layers.reduce((m, layer) => layer(m), base);
}

/** One call of the model inside a layer: complete, or stream with the caller's onDelta. */
export type NextCall = (request: ChatRequest, options: CompleteOptions) => Promise<ChatResponse>;

/**
 * A layer that wraps complete() and stream() the same way: `around(next, request, options, onDelta?)`
 * runs around one call (onDelta is set for stream calls). Other capabilities are forwarded.
 */
export function aroundCalls(
  around: (next: NextCall, request: ChatRequest, options: CompleteOptions, onDelta?: OnDelta) => Promise<ChatResponse>,
  over: (inner: ChatModel) => ModelOverrides = () => ({}),
): ModelLayer {
  return (inner) =>
    wrapModel(inner, {
      complete: (req, o = {}) => around((r, oo) => inner.complete(r, oo), req, o),
      stream: inner.stream && ((req, onDelta, o = {}) => around((r, oo) => inner.stream!(r, onDelta, oo), req, o, onDelta)),
      ...over(inner),
    });
}

// ---------------------------------------------------------------------------------------------------
// The layers createModel composes, innermost first: timeout → accounting → limit → retry → [extra] → cache → request.

/** One attempt's outcome, as the accounting and cache layers report it (createModel adds model ids and time). */
export interface AttemptReport {
  hash: string;
  request: ChatRequest;
  /** 1-based attempt number; 0 for a cache hit */
  attempt: number;
  cached: boolean;
  ok: boolean;
  response?: { text: string };
  error?: string;
  errorKind?: CallErrorKind;
  status?: number;
  usage: Usage;
  latencyMs: number;
  costUsd: number;
  meta?: Record<string, unknown>;
}

/** What the layers know about the model they serve (createModel builds it; a batch layer gets it too). */
export interface LayerContext {
  /** config id */
  id: string;
  endpoint?: string;
  price: Price;
  priceKnown: boolean;
  timeoutMs: number;
  retries: number;
  /** report one attempt or cache hit to createModel's onCall */
  report(r: AttemptReport): void;
  /** removes the provider's secrets (API keys) and token-looking strings from a message */
  redact(s: string): string;
}

const tokenCount = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

/** Turns any failure into a sanitized AttemptError (kind, short message, status, retryable). */
export function toAttemptError(e: unknown): AttemptError {
  if (e instanceof AttemptError) return e;
  if (e instanceof ModelError) return new AttemptError('other', e.message, e.retryable, e.status);
  const m = e instanceof Error ? e.message : String(e);
  return new AttemptError('other', m.slice(0, 300), false);
}

/**
 * Around each attempt: measures latency, normalizes usage, prices the call, sanitizes errors into AttemptError
 * (secrets redacted) and reports every attempt, ok or not.
 */
export function accountingLayer(ctx: LayerContext): ModelLayer {
  return aroundCalls(
    async (next, req, o) => {
      const t0 = performance.now();
      const hash = o.requestHash ?? '';
      try {
        const r = await next(req, o);
        const latencyMs = performance.now() - t0;
        if (!r || typeof r.text !== 'string') throw new AttemptError('malformed', 'provider returned no text', true);
        const usage = { input: tokenCount(r.usage?.input), output: tokenCount(r.usage?.output) };
        const cpuMs = typeof r.cpuMs === 'number' && Number.isFinite(r.cpuMs) && r.cpuMs >= 0 ? r.cpuMs : undefined;
        const out: ChatResponse = { text: r.text, usage, latencyMs, costUsd: costOf(ctx.price, usage, latencyMs, cpuMs) };
        if (cpuMs !== undefined) out.cpuMs = cpuMs;
        if (typeof r.measuredCpuMs === 'number') out.measuredCpuMs = r.measuredCpuMs;
        if (r.finishReason) out.finishReason = r.finishReason;
        ctx.report({ hash, request: req, attempt: o.attempt ?? 1, cached: false, ok: true, response: { text: out.text }, usage, latencyMs, costUsd: out.costUsd, meta: o.meta });
        return out;
      } catch (e) {
        const f = toAttemptError(e);
        f.message = ctx.redact(f.message);
        ctx.report({
          hash, request: req, attempt: o.attempt ?? 1, cached: false, ok: false, error: f.message, errorKind: f.kind, status: f.status,
          usage: { input: 0, output: 0 }, latencyMs: performance.now() - t0, costUsd: 0, meta: o.meta,
        });
        throw f;
      }
    },
    (inner) => ({
      embed: inner.embed && (async (texts: string[]) => {
        try {
          return await inner.embed!(texts);
        } catch (e) {
          const f = toAttemptError(e);
          throw new ModelError(ctx.id, `embeddings: ${ctx.redact(f.message)}`, f.status, f.retryable);
        }
      }),
    }),
  );
}

/**
 * Gives each attempt its own signal, linked to the caller's through one listener per caller signal
 * (abort.ts): SDKs that add a listener per request and never remove it add it to this short-lived
 * signal, not to a run's. Aborts the attempt after timeoutMs unless the provider enforces it itself.
 */
export function timeoutLayer(timeoutMs: number, providerHandlesTimeout: boolean): ModelLayer {
  return aroundCalls(async (next, req, o) => {
    const outer = o.signal;
    const child = childSignal(outer);
    let timedOut = false;
    const timer = providerHandlesTimeout
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.abort(new Error('timeout'));
        }, timeoutMs);
    try {
      return await next(req, providerHandlesTimeout ? { ...o, signal: child.signal, timeoutMs } : { ...o, signal: child.signal });
    } catch (e) {
      if (outer?.aborted) throw new AttemptError('aborted', 'aborted by caller', false);
      if (timedOut || (e instanceof AttemptError && e.kind === 'timeout')) throw new AttemptError('timeout', `timed out after ${timeoutMs} ms`, true);
      throw e;
    } finally {
      if (timer) clearTimeout(timer);
      child.dispose();
    }
  });
}

/** Holds one slot of the endpoint's semaphore per attempt (not while waiting to retry). */
export function limitLayer(limiter: Semaphore): ModelLayer {
  return aroundCalls(
    async (next, req, o) => {
      await limiter.acquire(o.signal);
      try {
        return await next(req, o);
      } finally {
        limiter.release();
      }
    },
    (inner) => ({
      scoreCandidates: inner.scoreCandidates && ((r: ChatRequest, c: string[]) => limiter.run(() => inner.scoreCandidates!(r, c))),
      embed: inner.embed && ((t: string[]) => limiter.run(() => inner.embed!(t))),
    }),
  );
}

/** Endpoints that just failed as unreachable: further calls fail at once until this time (epoch ms). */
const deadUntil = new Map<string, number>();
const DEAD_MS = 10_000;

/** HTTP answers that no retry and no other example will change: the key, the permission, the model name. */
function refusal(f: AttemptError): 'auth' | 'not_found' | undefined {
  if (f.kind !== 'http') return undefined;
  if (f.status === 401 || f.status === 403) return 'auth';
  if (f.status === 404) return 'not_found';
  return undefined;
}

export interface RetryOptions {
  retries: number;
  backoff?: BackoffOptions;
  /** identity of the endpoint for the unreachable latch (provider | base URL) */
  endpointKey: string;
  /** names where the key comes from, for the refusal message (e.g. "OPENAI_API_KEY") */
  keyHint?: string;
}

/**
 * Retries failed attempts: HTTP 408, 409, 429, 5xx, timeouts, dropped connections, malformed bodies,
 * with the server's Retry-After or full-jitter backoff. A refused connection is retried at most twice
 * and then latches the endpoint dead for 10 s. A refusal (HTTP 401, 403, 404) is never retried and
 * latches this model: every later call fails at once with the same error (exit code 2), so a run stops
 * after the first such answer instead of sending every request. Throws ModelCallError.
 */
export function retryLayer(ctx: LayerContext, ro: RetryOptions): ModelLayer {
  let refused: ModelCallError | undefined;
  const callError = (hash: string, kind: CallErrorKind, detail: string, attempts: number, status?: number) =>
    new ModelCallError(ctx.id, hash, kind, detail, attempts, status, ctx.endpoint);
  return aroundCalls(async (next, req, o, onDelta) => {
    const hash = o.requestHash ?? '';
    const outer = o.signal;
    if (refused) throw callError(hash, refused.kind, refused.detail, 0, refused.status);
    const dead = deadUntil.get(ro.endpointKey);
    if (dead && dead > Date.now()) throw callError(hash, 'unreachable', `cannot connect to ${ctx.endpoint} (failed moments ago; not retrying)`, 0);
    // a stream cannot be taken back once text was sent: one attempt
    const maxAttempts = onDelta ? 1 : ro.retries + 1;
    let unreachableTries = 0;
    for (let attempt = 1; ; attempt++) {
      if (outer?.aborted) throw callError(hash, 'aborted', 'aborted by caller', attempt - 1);
      let f: AttemptError;
      try {
        const r = await next(req, { ...o, attempt });
        deadUntil.delete(ro.endpointKey);
        return r;
      } catch (e) {
        if (outer?.aborted) throw callError(hash, 'aborted', 'aborted by caller', attempt);
        f = toAttemptError(e);
      }
      if (f.kind === 'aborted') throw callError(hash, 'aborted', 'aborted by caller', attempt);
      const refusedAs = refusal(f);
      if (refusedAs) {
        const what = refusedAs === 'auth' ? `check the API key${ro.keyHint ? ` in ${ro.keyHint}` : ''} and its access to this model` : 'check the model name and base URL';
        refused = callError(hash, refusedAs, `${ctx.endpoint ?? 'the provider'} refused the request: ${f.message}; ${what}`, attempt, f.status);
        throw refused;
      }
      let last = !f.retryable || attempt >= maxAttempts;
      if (f.kind === 'unreachable') {
        // a refused connection is usually a wrong URL: retry briefly (server starting up), then fail fast
        unreachableTries++;
        if (unreachableTries > Math.min(2, ro.retries)) last = true;
      }
      if (last) {
        if (f.kind === 'unreachable') deadUntil.set(ro.endpointKey, Date.now() + DEAD_MS);
        throw callError(hash, f.kind, f.message, attempt, f.status);
      }
      const wait = f.kind === 'unreachable' ? Math.min(250, retryDelay(attempt, undefined, ro.backoff)) : retryDelay(attempt, f.retryAfterMs, ro.backoff);
      try {
        await sleep(wait, outer);
      } catch {
        throw callError(hash, 'aborted', 'aborted by caller', attempt);
      }
    }
  });
}

/** A response cache (the store implements it). Only successful responses are ever put. */
export interface ResponseCache {
  get(key: string): ChatResponse | undefined;
  put(key: string, modelId: string, resp: ChatResponse): void;
}

/**
 * Serves a request from the cache (reported as attempt 0) unless `noCache`; puts every fresh success
 * (noCache skips reads only, so a later run can reuse the answers).
 */
export function cacheLayer(ctx: LayerContext, cache: ResponseCache, noCache: boolean): ModelLayer {
  return aroundCalls(async (next, req, o, onDelta) => {
    const hash = o.requestHash ?? '';
    if (!noCache) {
      const hit = cache.get(hash);
      if (hit) {
        ctx.report({ hash, request: req, attempt: 0, cached: true, ok: true, response: { text: hit.text }, usage: hit.usage, latencyMs: hit.latencyMs, costUsd: hit.costUsd, meta: o.meta });
        if (onDelta && hit.text) onDelta(hit.text);
        return { ...hit, cached: true };
      }
    }
    const r = await next(req, o);
    cache.put(hash, ctx.id, r);
    return r;
  });
}

/**
 * Outermost: fills the config's temperature / maxTokens into requests that do not set them and hashes
 * the effective request once (CompleteOptions.requestHash) for the layers inside.
 */
export function requestLayer(defaults: { temperature?: number; maxTokens?: number }, hashOf: (req: ChatRequest) => string): ModelLayer {
  const effective = (req: ChatRequest): ChatRequest => {
    if ((req.temperature != null || defaults.temperature == null) && (req.maxTokens != null || defaults.maxTokens == null)) return req;
    const r: ChatRequest = { ...req };
    if (r.temperature == null && defaults.temperature != null) r.temperature = defaults.temperature;
    if (r.maxTokens == null && defaults.maxTokens != null) r.maxTokens = defaults.maxTokens;
    return r;
  };
  return aroundCalls(
    (next, req, o) => {
      const r = effective(req);
      return next(r, { ...o, requestHash: hashOf(r) });
    },
    (inner) => ({ scoreCandidates: inner.scoreCandidates && ((r: ChatRequest, c: string[]) => inner.scoreCandidates!(effective(r), c)) }),
  );
}
