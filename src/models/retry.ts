/** Backoff settings; defaults suit hosted APIs. Tests pass small values. */
export interface BackoffOptions {
  /** first retry's upper bound, ms (default 500) */
  baseMs?: number;
  /** upper bound of any computed backoff, ms (default 20000) */
  maxMs?: number;
  /** the most a Retry-After header may make us wait, ms (default 60000) */
  retryAfterCapMs?: number;
  /** random source in [0, 1) (default Math.random) */
  random?: () => number;
}

/** Exponential backoff with full jitter: uniform in [0, min(max, base × 2^(attempt-1))]. attempt is 1-based. */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const base = o.baseMs ?? 500;
  const max = o.maxMs ?? 20_000;
  const ceil = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.floor((o.random ?? Math.random)() * ceil);
}

/**
 * Milliseconds to wait from Retry-After / retry-after-ms header values (delta seconds, or an HTTP date);
 * undefined when absent or unparseable. Not capped here.
 */
export function parseRetryAfter(retryAfter: string | null | undefined, retryAfterMs?: string | null, now = Date.now()): number | undefined {
  if (retryAfterMs != null && retryAfterMs.trim() !== '') {
    const ms = Number(retryAfterMs);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  if (retryAfter == null) return undefined;
  const s = retryAfter.trim();
  if (s === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** The wait before retry `attempt` (1-based): the server's Retry-After (capped) when given, else jittered backoff. */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, o: BackoffOptions = {}): number {
  if (retryAfterMs != null) return Math.min(retryAfterMs, o.retryAfterCapMs ?? 60_000);
  return backoffDelay(attempt, o);
}
