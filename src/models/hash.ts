import { createHash } from 'node:crypto';
import type { ChatRequest } from './types.ts';

/** JSON with object keys sorted and undefined values dropped: equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortValue(value));
}

function sortValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : sortValue(x)));
  if (v && typeof v === 'object' && (v as object).constructor === Object) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortValue(x);
    }
    return out;
  }
  return v;
}

/**
 * Cache key of one request: sha256 (hex) of the canonical JSON of provider, endpoint (base URL or a
 * provider-supplied identity such as a weights checksum), model name, the effective request (config
 * temperature / maxTokens merged in) and extra body options. Never includes an API key.
 */
export function requestHash(provider: string, baseURL: string | undefined, model: string, request: ChatRequest, extra?: unknown): string {
  const payload = canonicalJson({ v: 1, provider, baseURL: baseURL ?? null, model, request, extra: extra ?? null });
  return createHash('sha256').update(payload).digest('hex');
}
