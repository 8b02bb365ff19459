// Anthropic's Message Batches, through the official SDK:
//   POST /v1/messages/batches {requests: [{custom_id, params}]}           (custom_id: 1-64 of [A-Za-z0-9_-])
//   GET  /v1/messages/batches/{id}: processing_status in_progress | canceling | ended, request_counts
//        {processing, succeeded, errored, canceled, expired}, results_url once ended
//   GET  results_url: JSONL {custom_id, result: {type: succeeded, message} | {type: errored, error} |
//        {type: canceled} | {type: expired}}
import { createRequire } from 'node:module';
import type AnthropicClient from '@anthropic-ai/sdk';
import { sdkAttemptError } from '../providers/common.ts';
import { anthropicMessagesBody, parseAnthropicMessage } from '../providers/anthropic.ts';
import type { ResolvedModelConfig } from '../providers/common.ts';
import type { ChatRequest } from '../types.ts';
import { short } from './lines.ts';
import type { BatchClient, BatchItem, BatchLine, BatchPoll } from './types.ts';

export function anthropicBatchClient(cfg: ResolvedModelConfig, baseURL: string, apiKey: string, timeoutMs: number): BatchClient {
  const Anthropic = createRequire(import.meta.url)('@anthropic-ai/sdk') as typeof AnthropicClient;
  // The global fetch: results are streamed, and these are a handful of requests per batch.
  const client = new Anthropic({ apiKey, authToken: null, baseURL, maxRetries: 2, timeout: timeoutMs });
  const fail = (e: unknown) => sdkAttemptError(e, baseURL);

  return {
    api: 'anthropic',
    endpoint: baseURL,
    async submit(lines: BatchLine[], signal?: AbortSignal): Promise<string> {
      const requests = lines.map((l) => ({ custom_id: l.customId, params: anthropicMessagesBody(cfg, l.request) }));
      try {
        // creating a batch is not idempotent: never retried by the SDK
        // params is the Messages API body built for live calls (typed loosely there): the SDK's type is the same shape
        const params = { requests } as unknown as Parameters<typeof client.messages.batches.create>[0];
        const b = await client.messages.batches.create(params, { signal, maxRetries: 0 });
        return b.id;
      } catch (e) {
        throw fail(e);
      }
    },
    async poll(id: string, signal?: AbortSignal): Promise<BatchPoll> {
      let b: Awaited<ReturnType<typeof client.messages.batches.retrieve>>;
      try {
        b = await client.messages.batches.retrieve(id, {}, { signal });
      } catch (e) {
        throw fail(e);
      }
      const status = String(b?.processing_status ?? 'unknown');
      const c = (b?.request_counts ?? {}) as unknown as Record<string, unknown>;
      const n = (k: string) => (typeof c[k] === 'number' ? c[k] : 0);
      const done = n('succeeded') + n('errored') + n('canceled') + n('expired');
      return { ended: status === 'ended', status, done, total: done + n('processing'), failed: n('errored') + n('canceled') + n('expired') };
    },
    async *results(id: string, _poll: BatchPoll, reqOf: (customId: string) => ChatRequest | undefined, signal?: AbortSignal): AsyncIterable<BatchItem> {
      let stream: AsyncIterable<any>;
      try {
        stream = await client.messages.batches.results(id, {}, { signal });
      } catch (e) {
        throw fail(e);
      }
      for await (const line of stream) {
        const customId = line?.custom_id;
        if (typeof customId !== 'string') continue;
        const r = line.result;
        switch (r?.type) {
          case 'succeeded':
            try {
              const { text, usage } = parseAnthropicMessage(r.message, reqOf(customId) ?? { messages: [] });
              yield { customId, ok: true, text, usage };
            } catch (e) {
              yield { customId, ok: false, kind: 'errored', message: `batch ${id}: ${(e as Error).message}` };
            }
            break;
          case 'expired':
            yield { customId, ok: false, kind: 'expired', message: `batch ${id} expired before this request ran (24h window)` };
            break;
          case 'canceled':
            yield { customId, ok: false, kind: 'canceled', message: `batch ${id} was cancelled before this request ran` };
            break;
          default: {
            const e = r?.error?.error ?? r?.error;
            yield { customId, ok: false, kind: 'errored', message: `batch ${id}: ${e?.type ? `${e.type}: ` : ''}${short(e?.message ?? 'errored')}` };
          }
        }
      }
    },
  };
}
