import { createRequire } from 'node:module';
import type AnthropicClient from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { AttemptError } from '../errors.ts';
import type { ChatRequest, ChatResponse, CompleteOptions } from '../types.ts';
import { nodeFetch } from './node-fetch.ts';
import { estimateTokens, finite, pick, resolveApiKey, sdkAttemptError, systemAndTurns, type ProviderFactory, type ResolvedModelConfig } from './common.ts';

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
/** Anthropic's Messages API requires max_tokens: used when neither the request nor the config sets one. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 1024;

/** The Messages API request body (`params`) for a request (live calls and batch requests share it). */
export function anthropicMessagesBody(cfg: ResolvedModelConfig, req: ChatRequest): Record<string, unknown> {
  const { system, turns } = systemAndTurns(req.messages);
  const body: Record<string, unknown> = {
    ...(cfg.options ?? {}),
    model: cfg.model,
    max_tokens: req.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages: turns.map((m) => ({ role: m.role, content: m.content })),
  };
  if (system != null) body.system = system;
  if (req.temperature != null) body.temperature = Math.min(1, req.temperature); // Anthropic's range is 0..1
  if (req.topP != null) body.top_p = req.topP;
  if (req.stop?.length) body.stop_sequences = req.stop;
  return body;
}

/** Text and usage of a Message (live answers and succeeded batch results). Throws AttemptError 'malformed'. */
export function parseAnthropicMessage(r: unknown, req: ChatRequest): { text: string; usage: { input: number; output: number } } {
  const content = pick(r, 'content');
  if (!Array.isArray(content)) throw new AttemptError('malformed', 'malformed response (no content array)', true);
  const text = content
    .map((b: unknown) => (pick(b, 'type') === 'text' && typeof pick(b, 'text') === 'string' ? (pick(b, 'text') as string) : ''))
    .join('');
  const usage = {
    input: finite(pick(r, 'usage', 'input_tokens')) ?? estimateTokens(req.messages.reduce((n, m) => n + m.content.length, 0)),
    output: finite(pick(r, 'usage', 'output_tokens')) ?? estimateTokens(text.length),
  };
  return { text, usage };
}

/**
 * Anthropic's Messages API (POST {baseURL}/v1/messages) through the official `@anthropic-ai/sdk`, SDK
 * retries off. `baseURL` is the API root as the SDK expects it (default https://api.anthropic.com); a
 * trailing `/v1` is dropped so an OpenAI-style base URL works too. System messages become `system`.
 */
export const anthropicProvider: ProviderFactory = (cfg, deps) => {
  const baseURL = (cfg.baseURL ?? ANTHROPIC_BASE_URL).replace(/\/+$/, '').replace(/\/v1$/, '');
  const apiKey = resolveApiKey(cfg, deps, true)!;
  // loaded on first use, not at import (its start-up cost is paid only by runs that use it)
  const Anthropic = createRequire(import.meta.url)('@anthropic-ai/sdk') as typeof AnthropicClient;
  const client = new Anthropic({ apiKey, authToken: null, baseURL, maxRetries: 0, timeout: cfg.timeoutMs, fetch: nodeFetch });
  return {
    id: cfg.id,
    endpoint: baseURL,
    secrets: [apiKey],
    handlesTimeout: true,
    async complete(req: ChatRequest, opts?: CompleteOptions): Promise<ChatResponse> {
      const body = anthropicMessagesBody(cfg, req);
      const t0 = performance.now();
      let r: unknown;
      try {
        r = await client.messages.create(body as unknown as MessageCreateParamsNonStreaming, { signal: opts?.signal, timeout: opts?.timeoutMs ?? cfg.timeoutMs });
      } catch (e) {
        throw sdkAttemptError(e, baseURL);
      }
      return { ...parseAnthropicMessage(r, req), latencyMs: performance.now() - t0, costUsd: 0 };
    },
  };
};
