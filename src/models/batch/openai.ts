// OpenAI's Batch API (and the OpenAI-compatible servers that copy it), through the official SDK:
//   1. upload the requests as JSONL, purpose "batch": one line {custom_id, method: "POST", url: "/v1/chat/completions", body}
//   2. POST /v1/batches {input_file_id, endpoint: "/v1/chat/completions", completion_window: "24h"}
//   3. GET /v1/batches/{id} until status is completed, failed, expired or cancelled
//      (validating → in_progress → finalizing → completed; cancelling → cancelled)
//   4. GET /v1/files/{output_file_id}/content and /v1/files/{error_file_id}/content: JSONL lines
//      {id, custom_id, response: {status_code, request_id, body} | null, error: {code, message} | null}
import { createRequire } from 'node:module';
import type OpenAIClient from 'openai';
import { sdkAttemptError } from '../providers/common.ts';
import { openAIChatBody, parseOpenAIChat } from '../providers/openai.ts';
import type { ResolvedModelConfig } from '../providers/common.ts';
import type { ChatRequest } from '../types.ts';
import { jsonlLines, short } from './lines.ts';
import type { BatchClient, BatchItem, BatchLine, BatchPoll } from './types.ts';

const CHAT_URL = '/v1/chat/completions';
const ENDED = new Set(['completed', 'failed', 'expired', 'cancelled']);

export function openAIBatchClient(cfg: ResolvedModelConfig, baseURL: string, apiKey: string | undefined, timeoutMs: number): BatchClient {
  const require = createRequire(import.meta.url);
  const sdk = require('openai') as typeof import('openai');
  const OpenAI = sdk.OpenAI as unknown as typeof OpenAIClient;
  // The global fetch: results files are streamed, and these are a handful of requests per batch.
  const client = new OpenAI({ apiKey: apiKey ?? 'none', baseURL, organization: null, project: null, maxRetries: 2, timeout: timeoutMs });
  const fail = (e: unknown) => sdkAttemptError(e, baseURL);

  return {
    api: 'openai',
    endpoint: baseURL,
    async submit(lines: BatchLine[], signal?: AbortSignal): Promise<string> {
      const jsonl = lines.map((l) => JSON.stringify({ custom_id: l.customId, method: 'POST', url: CHAT_URL, body: openAIChatBody(cfg, l.request) })).join('\n') + '\n';
      try {
        const file = await client.files.create({ file: await sdk.toFile(Buffer.from(jsonl), 'tunelab-batch.jsonl', { type: 'application/jsonl' }), purpose: 'batch' }, { signal });
        // creating a batch is not idempotent: never retried by the SDK (a lost answer would leave a second batch running)
        const batch = await client.batches.create(
          { input_file_id: file.id, endpoint: CHAT_URL, completion_window: '24h', metadata: { source: 'tunelab' } },
          { signal, maxRetries: 0 },
        );
        return batch.id;
      } catch (e) {
        throw fail(e);
      }
    },
    async poll(id: string, signal?: AbortSignal): Promise<BatchPoll> {
      let b: Awaited<ReturnType<typeof client.batches.retrieve>>;
      try {
        b = await client.batches.retrieve(id, { signal });
      } catch (e) {
        throw fail(e);
      }
      const status = String(b?.status ?? 'unknown');
      const c = b?.request_counts;
      const p: BatchPoll = { ended: ENDED.has(status), status, done: c?.completed, failed: c?.failed, total: c?.total, files: { output: b?.output_file_id, error: b?.error_file_id } };
      if (status === 'failed') {
        const errs = Array.isArray(b?.errors?.data) ? b.errors.data : [];
        p.error = `batch ${id} failed${errs.length ? `: ${errs.map((x) => short(`${x?.code ? `${x.code}: ` : ''}${x?.message ?? ''}${x?.line != null ? ` (line ${x.line})` : ''}`, 160)).join('; ')}` : ''}`;
      }
      return p;
    },
    async *results(id: string, poll: BatchPoll, reqOf: (customId: string) => ChatRequest | undefined, signal?: AbortSignal): AsyncIterable<BatchItem> {
      for (const fileId of [poll.files?.output, poll.files?.error]) {
        if (!fileId) continue;
        let res: Response;
        try {
          res = (await client.files.content(fileId, { signal })) as unknown as Response;
        } catch (e) {
          throw fail(e);
        }
        for await (const line of jsonlLines(res.body)) {
          const item = toItem(line, reqOf, id);
          if (item) yield item;
        }
      }
    },
  };
}

/** One line of an output or error file, as documented (fields checked before use). */
interface OutputLine {
  custom_id?: unknown;
  response?: { status_code?: unknown; body?: { error?: { message?: string }; message?: string } & Record<string, unknown> } | null;
  error?: { code?: unknown; message?: unknown } | null;
}

function toItem(raw: unknown, reqOf: (customId: string) => ChatRequest | undefined, batchId: string): BatchItem | undefined {
  const line = (raw ?? {}) as OutputLine;
  const customId = line.custom_id;
  if (typeof customId !== 'string') return undefined;
  const resp = line.response;
  const err = line.error;
  if (resp && resp.status_code === 200 && !err) {
    try {
      const { text, usage } = parseOpenAIChat(resp.body, reqOf(customId) ?? { messages: [] });
      return { customId, ok: true, text, usage };
    } catch (e) {
      return { customId, ok: false, kind: 'errored', message: `batch ${batchId}: ${(e as Error).message}` };
    }
  }
  if (err && typeof err === 'object') {
    const code = String(err.code ?? '');
    const kind = code === 'batch_expired' ? 'expired' : code === 'batch_cancelled' ? 'canceled' : 'errored';
    const why = kind === 'expired' ? `batch ${batchId} expired before this request ran (24h window)` : kind === 'canceled' ? `batch ${batchId} was cancelled before this request ran` : `batch ${batchId}: ${code ? `${code}: ` : ''}${short(err.message)}`;
    return { customId, ok: false, kind, message: why };
  }
  const sc = typeof resp?.status_code === 'number' ? resp.status_code : undefined;
  const msg = resp?.body?.error?.message ?? resp?.body?.message;
  return { customId, ok: false, kind: 'errored', status: sc, message: `batch ${batchId}: HTTP ${sc ?? '?'}${msg ? ` (${short(msg)})` : ''}` };
}
