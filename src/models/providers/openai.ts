import { createRequire } from 'node:module';
import type OpenAIClient from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { AttemptError, ModelConfigError } from '../errors.ts';
import type { ChatRequest, ChatResponse, CompleteOptions } from '../types.ts';
import { nodeFetch } from './node-fetch.ts';
import { estimateTokens, finite, pick, resolveApiKey, sdkAttemptError, type ProviderFactory, type ResolvedModelConfig } from './common.ts';

/** Default base URLs of the OpenAI-compatible providers tunelab knows by name. */
export const OPENAI_COMPATIBLE_BASE_URLS: Record<string, string> = {
  openai: 'https://api.openai.com/v1',
  ollama: 'http://127.0.0.1:11434/v1',
  vllm: 'http://127.0.0.1:8000/v1',
  llamacpp: 'http://127.0.0.1:8080/v1',
  lmstudio: 'http://127.0.0.1:1234/v1',
  together: 'https://api.together.xyz/v1',
  groq: 'https://api.groq.com/openai/v1',
};

/** Providers whose key is required (hosted). The others send a key only when apiKeyEnv names one. */
const HOSTED = new Set(['openai', 'together', 'groq']);

/** The chat completions request body for a request (live calls and batch lines share it). */
export function openAIChatBody(cfg: ResolvedModelConfig, req: ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { ...(cfg.options ?? {}), model: cfg.model, messages: req.messages };
  if (req.temperature != null) body.temperature = req.temperature;
  if (req.topP != null) body.top_p = req.topP;
  if (req.stop?.length) body.stop = req.stop;
  if (req.seed != null) body.seed = req.seed;
  if (req.maxTokens != null) body[cfg.provider === 'openai' ? 'max_completion_tokens' : 'max_tokens'] = req.maxTokens;
  return body;
}

/** Text and usage of a chat completion body (live answers and batch output lines). Throws AttemptError 'malformed'. */
export function parseOpenAIChat(r: unknown, req: ChatRequest): { text: string; usage: { input: number; output: number } } {
  const text = pick(r, 'choices', 0, 'message', 'content');
  if (typeof text !== 'string') {
    if (pick(r, 'choices', 0, 'message') && text == null) {
      // a refusal or tool call without text content: an empty answer, not a transport fault
    } else throw new AttemptError('malformed', 'malformed response (no choices[0].message.content)', true);
  }
  const out = typeof text === 'string' ? text : '';
  const usage = {
    input: finite(pick(r, 'usage', 'prompt_tokens')) ?? estimateTokens(req.messages.reduce((n, m) => n + m.content.length, 0)),
    output: finite(pick(r, 'usage', 'completion_tokens')) ?? estimateTokens(out.length),
  };
  return { text: out, usage };
}

/**
 * OpenAI chat completions through the official `openai` SDK, for OpenAI and every server that speaks
 * its API (Ollama, vLLM, llama.cpp server, LM Studio, Together, Groq, ...). The SDK's own retries are
 * off: createModel's wrapper retries.
 */
export const openAICompatibleProvider: ProviderFactory = (cfg, deps) => {
  const baseURL = cfg.baseURL ?? OPENAI_COMPATIBLE_BASE_URLS[cfg.provider];
  if (!baseURL) throw new ModelConfigError(`${deps.where}.baseURL`, `required for provider ${cfg.provider}`);
  const apiKey = resolveApiKey(cfg, deps, HOSTED.has(cfg.provider));
  // loaded on first use, not at import: `tunelab --help` and runs without this provider skip the SDK's start-up cost
  const OpenAI = createRequire(import.meta.url)('openai') as typeof OpenAIClient;
  const client = new OpenAI({
    apiKey: apiKey ?? 'none',
    baseURL,
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: cfg.timeoutMs,
    fetch: nodeFetch,
  });
  return {
    id: cfg.id,
    endpoint: baseURL,
    secrets: apiKey ? [apiKey] : [],
    handlesTimeout: true,
    async complete(req: ChatRequest, opts?: CompleteOptions): Promise<ChatResponse> {
      const body = openAIChatBody(cfg, req);
      const t0 = performance.now();
      let r: unknown;
      try {
        r = await client.chat.completions.create(body as unknown as ChatCompletionCreateParamsNonStreaming, { signal: opts?.signal, timeout: opts?.timeoutMs ?? cfg.timeoutMs });
      } catch (e) {
        throw sdkAttemptError(e, baseURL);
      }
      return { ...parseOpenAIChat(r, req), latencyMs: performance.now() - t0, costUsd: 0 };
    },
    async embed(texts: string[]): Promise<number[][]> {
      try {
        const model = typeof cfg.options?.embeddingModel === 'string' ? cfg.options.embeddingModel : cfg.model;
        const r = await client.embeddings.create({ model, input: texts, encoding_format: 'float' });
        return r.data.sort((a, b) => a.index - b.index).map((d) => d.embedding as number[]);
      } catch (e) {
        throw sdkAttemptError(e, baseURL);
      }
    },
  };
};
