import { canonicalJson, sha256Hex } from '../core/index.ts';
import type { ChatRequest } from './types.ts';

/**
 * Cache key of one request: sha256 (hex) of the canonical JSON of provider, endpoint (base URL or a
 * provider-supplied identity such as a weights checksum), model name, the effective request (config
 * temperature / maxTokens merged in) and extra body options. Never includes an API key.
 */
export function requestHash(provider: string, baseURL: string | undefined, model: string, request: ChatRequest, extra?: unknown): string {
  const payload = canonicalJson({ v: 1, provider, baseURL: baseURL ?? null, model, request, extra: extra ?? null });
  return sha256Hex(payload);
}
