// The HTTP client the hosted fine-tuning backends share: JSON and multipart requests with a bearer
// key, retries on 429 / 5xx / dropped connections (honouring Retry-After), and errors that carry the
// provider's own message and never the key.
import { parseRetryAfter, retryDelay, type BackoffOptions } from '../../models/index.ts';

export interface HttpOptions {
  baseURL: string;
  /** the API key (read from the environment by the caller); sent as `Authorization: Bearer` */
  apiKey?: string;
  /** provider name for messages */
  provider: string;
  /** retries after the first attempt for retryable failures (default 5) */
  retries?: number;
  backoff?: BackoffOptions;
  /** per-request time limit, ms (default 60000) */
  timeoutMs?: number;
  /** extra headers on every request */
  headers?: Record<string, string>;
  /** called before each retry wait (tests and logs) */
  onRetry?: (info: { attempt: number; status?: number; waitMs: number; message: string }) => void;
}

/** A failed request: HTTP status (undefined for a transport failure) and the provider's message. */
export class ProviderHttpError extends Error {
  constructor(
    public provider: string,
    public status: number | undefined,
    public providerMessage: string,
    public path: string,
  ) {
    super(`${provider}: ${status ? `HTTP ${status}` : 'request failed'} on ${path}: ${providerMessage}`);
    this.name = 'ProviderHttpError';
  }
}

const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);

/** The provider's error message from a JSON body in any of the usual shapes. */
export function errorMessageOf(body: unknown, fallback: string): string {
  const b = body as any;
  if (!b || typeof b !== 'object') return typeof body === 'string' && body.trim() ? body.trim().slice(0, 500) : fallback;
  const m = b.error?.message ?? (typeof b.error === 'string' ? b.error : undefined) ?? b.message ?? b.detail ?? b.status?.message;
  return typeof m === 'string' && m ? m.slice(0, 500) : fallback;
}

export class HttpClient {
  readonly baseURL: string;
  constructor(private o: HttpOptions) {
    this.baseURL = o.baseURL.replace(/\/+$/, '');
  }

  private redact(s: string): string {
    return this.o.apiKey ? s.split(this.o.apiKey).join('***') : s;
  }

  /** JSON request; resolves to the parsed body. `path` is relative to the base URL (starts with /). */
  async json<T = any>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return this.send<T>(
      method,
      path,
      () => (body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal,
    );
  }

  /** multipart/form-data upload: string fields plus one file. */
  async multipart<T = any>(
    path: string,
    fields: Record<string, string>,
    file: { field: string; name: string; data: string | Uint8Array; type?: string },
    signal?: AbortSignal,
  ): Promise<T> {
    return this.send<T>(
      'POST',
      path,
      () => {
        const form = new FormData();
        for (const [k, v] of Object.entries(fields)) form.append(k, v);
        form.append(
          file.field,
          new Blob([typeof file.data === 'string' ? file.data : Buffer.from(file.data)], { type: file.type ?? 'application/jsonl' }),
          file.name,
        );
        return { body: form };
      },
      signal,
    );
  }

  private async send<T>(
    method: string,
    path: string,
    make: () => { body?: BodyInit; headers?: Record<string, string> },
    signal?: AbortSignal,
  ): Promise<T> {
    const url = `${this.baseURL}${path}`;
    const retries = this.o.retries ?? 5;
    for (let attempt = 1; ; attempt++) {
      const { body, headers } = make();
      const ac = new AbortController();
      const onAbort = () => ac.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => ac.abort(new Error('timeout')), this.o.timeoutMs ?? 60_000);
      let status: number | undefined;
      let message: string;
      let waitHint: number | undefined;
      try {
        const res = await fetch(url, {
          method,
          body,
          signal: ac.signal,
          headers: {
            accept: 'application/json',
            ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}),
            ...(this.o.headers ?? {}),
            ...(headers ?? {}),
          },
        });
        const text = await res.text();
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : {};
        } catch {
          /* not JSON: keep the text */
        }
        if (res.ok) {
          if (typeof parsed === 'string') throw new ProviderHttpError(this.o.provider, res.status, 'response is not JSON', path);
          return parsed as T;
        }
        status = res.status;
        message = this.redact(errorMessageOf(parsed, res.statusText || `HTTP ${res.status}`));
        waitHint = parseRetryAfter(res.headers.get('retry-after'), res.headers.get('retry-after-ms'));
        if (!RETRYABLE.has(res.status) || attempt > retries) throw new ProviderHttpError(this.o.provider, status, message, path);
      } catch (e) {
        if (e instanceof ProviderHttpError) throw e;
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
        message = this.redact(
          (e as Error)?.message === 'This operation was aborted'
            ? 'timeout'
            : String((e as any)?.cause?.code ?? (e as Error)?.message ?? e),
        );
        if (attempt > retries) throw new ProviderHttpError(this.o.provider, undefined, message, path);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
      const waitMs = retryDelay(attempt, waitHint, this.o.backoff);
      this.o.onRetry?.({ attempt, status, waitMs, message });
      await sleep(waitMs, signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
