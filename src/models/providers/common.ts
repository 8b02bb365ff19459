import { AttemptError, ModelConfigError } from '../errors.ts';
import type { ModelConfig } from '../config.ts';
import { DEFAULT_KEY_ENV } from '../config.ts';
import { parseRetryAfter } from '../retry.ts';
import type { ChatMessage, ChatModel } from '../types.ts';

/** A model config with defaults applied (`model` filled from id, limits set). */
export type ResolvedModelConfig = ModelConfig & { model: string; timeoutMs: number; concurrency: number; retries: number };

export interface ProviderDeps {
  env: NodeJS.ProcessEnv;
  /** where the config came from, for errors: e.g. `models[gpt-mini]` */
  where: string;
}

/** What a provider factory returns: a bare ChatModel (no retries, cache or cost) plus optional identity. */
export interface ProviderModel extends ChatModel {
  /** identity of what answers (default: base URL) used in request hashes and to share the concurrency limit */
  endpoint?: string;
  /** secret values this provider holds (API keys): redacted from every error message */
  secrets?: string[];
  /**
   * true when complete() enforces `options.timeoutMs` itself (throwing AttemptError kind 'timeout');
   * otherwise the wrapper aborts `options.signal` when the attempt runs past the config's timeoutMs.
   */
  handlesTimeout?: boolean;
}

export type ProviderFactory = (cfg: ResolvedModelConfig, deps: ProviderDeps) => ProviderModel;

/**
 * The API key for a config: from `apiKeyEnv`, else the provider's default variable. `required` makes a
 * missing or empty variable a ModelConfigError naming the variable (never its value).
 */
export function resolveApiKey(cfg: ResolvedModelConfig, deps: ProviderDeps, required: boolean): string | undefined {
  const name = cfg.apiKeyEnv ?? DEFAULT_KEY_ENV[cfg.provider];
  if (!name) return undefined;
  const v = deps.env[name];
  if (v == null || v === '') {
    if (required || cfg.apiKeyEnv) {
      throw new ModelConfigError(`${deps.where}.apiKeyEnv`, `environment variable ${name} is not set (it must hold the API key for provider ${cfg.provider})`);
    }
    return undefined;
  }
  return v;
}

export function systemAndTurns(messages: ChatMessage[]): { system?: string; turns: ChatMessage[] } {
  const sys = messages.filter((m) => m.role === 'system').map((m) => m.content);
  return { system: sys.length ? sys.join('\n\n') : undefined, turns: messages.filter((m) => m.role !== 'system') };
}

export const estimateTokens = (chars: number) => Math.ceil(chars / 4);

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** `v[k1][k2]…` for a value of unknown shape (parsed JSON, SDK errors); undefined where a step is missing. */
export function pick(v: unknown, ...path: (string | number)[]): unknown {
  let c = v;
  for (const k of path) {
    if (c == null || (typeof c !== 'object' && typeof c !== 'function')) return undefined;
    c = (c as Record<string | number, unknown>)[k];
  }
  return c;
}

/** A finite number, else undefined. */
export const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function causeCode(e: unknown): string | undefined {
  let c: unknown = e;
  for (let i = 0; c && i < 8; i++) {
    const code = pick(c, 'code');
    if (typeof code === 'string' && code) return code;
    const errors = pick(c, 'errors');
    if (Array.isArray(errors)) for (const x of errors) if (typeof pick(x, 'code') === 'string') return pick(x, 'code') as string; // AggregateError
    c = pick(c, 'cause');
  }
  return undefined;
}

function short(s: unknown, n = 200): string {
  const t = typeof s === 'string' ? s : s == null ? '' : String(s);
  return t.length > n ? t.slice(0, n) + '…' : t;
}

function headerGet(h: unknown, name: string): string | null {
  if (!h || typeof h !== 'object') return null;
  const get = pick(h, 'get');
  if (typeof get === 'function') {
    const v: unknown = get.call(h, name);
    return v == null ? null : String(v);
  }
  const v = pick(h, name);
  return v == null ? null : String(v);
}

/**
 * Turns an SDK error (openai or @anthropic-ai/sdk: both use the same class shapes) into a sanitized
 * AttemptError: kind, a short message, status, retryable, Retry-After. Nothing else is kept: no headers,
 * no request, no raw body.
 */
export function sdkAttemptError(e: unknown, url: string): AttemptError {
  if (e instanceof AttemptError) return e;
  const cls = String(pick(e, 'constructor', 'name') ?? '');
  if (cls === 'APIUserAbortError') return new AttemptError('aborted', 'request aborted', false);
  if (cls === 'APIConnectionTimeoutError') return new AttemptError('timeout', 'request timed out', true);
  const status = pick(e, 'status');
  if (typeof status === 'number') {
    const body = pick(e, 'error');
    const msg = short(pick(body, 'error', 'message') ?? pick(body, 'message') ?? (typeof body === 'string' ? body : ''));
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    const headers = pick(e, 'headers');
    const retryAfterMs = parseRetryAfter(headerGet(headers, 'retry-after'), headerGet(headers, 'retry-after-ms'));
    return new AttemptError('http', `HTTP ${status}${msg ? ` (${msg})` : ''}`, retryable, status, retryAfterMs);
  }
  if (cls === 'APIConnectionError' || pick(e, 'name') === 'TypeError' || causeCode(e)) {
    const code = causeCode(e);
    if (code && UNREACHABLE.has(code)) return new AttemptError('unreachable', `cannot connect to ${url} (${code})`, true);
    return new AttemptError('connection', `connection to ${url} failed (${code ?? short(pick(e, 'cause', 'message') ?? pick(e, 'message'), 80)})`, true);
  }
  if (e instanceof SyntaxError) return new AttemptError('malformed', `malformed response body (${short(e.message, 80)})`, true);
  return new AttemptError('other', short(pick(e, 'message') ?? e), false);
}
