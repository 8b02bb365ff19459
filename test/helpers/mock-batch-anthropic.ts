/**
 * A local server that follows Anthropic's documented Message Batches API (node:http, 127.0.0.1, port 0).
 *
 *   POST /v1/messages/batches              {requests: [{custom_id, params}]}: custom_id must match
 *                                          ^[a-zA-Z0-9_-]{1,64}$ and be unique; params need model, max_tokens,
 *                                          messages (else HTTP 400 invalid_request_error). Returns a
 *                                          message_batch with processing_status "in_progress".
 *   GET  /v1/messages/batches/{id}         the message_batch; the poll after the first ends it (request_counts
 *                                          {processing, succeeded, errored, canceled, expired}, ended_at,
 *                                          results_url) unless `hold()` keeps it in_progress until `release()`
 *   POST /v1/messages/batches/{id}/cancel  processing_status "canceling"; the next poll ends it, every request canceled
 *   GET  /v1/messages/batches/{id}/results JSONL lines {custom_id, result}: result {type: "succeeded", message},
 *                                          {type: "errored", error: {type: "error", error: {type, message}}},
 *                                          {type: "expired"} or {type: "canceled"}
 *
 * Requests need the key (when `apiKey` is set) as `x-api-key` or `Authorization: Bearer` (the SDK sends the
 * latter), and an `anthropic-version` header.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { defaultRespond } from './mock-openai-server.ts';
import type { MockBatchOptions } from './mock-batch-openai.ts';

export interface MockBatchAnthropic {
  /** the API root as the Anthropic SDK takes it (no /v1) */
  baseURL: string;
  stats(): { batches: number; polls: number; resultReads: number; requests: number };
  pollsOf(id: string): number;
  batchIds(): string[];
  requestsOf(id: string): any[];
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

interface Batch {
  obj: Record<string, any>;
  requests: any[];
  results?: string;
  polls: number;
}

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));
const iso = (t = Date.now()) => new Date(t).toISOString();

export async function startMockBatchAnthropic(opts: MockBatchOptions = {}): Promise<MockBatchAnthropic> {
  const batches = new Map<string, Batch>();
  let held = false;
  let seq = 0;
  let polls = 0;
  let resultReads = 0;
  const sockets = new Set<Socket>();
  let origin = '';
  const respond = opts.respond ?? ((b: any) => defaultRespond(b));

  const end = (b: Batch, canceled: boolean) => {
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    const lines = b.requests.map((r, i) => {
      let result: any;
      if (canceled) result = { type: 'canceled' };
      else if (opts.expireAfter != null && i >= opts.expireAfter) result = { type: 'expired' };
      else {
        const f = opts.fail?.(r.params);
        if (f)
          result = {
            type: 'errored',
            error: { type: 'error', error: { type: f.status === 400 ? 'invalid_request_error' : 'api_error', message: f.message } },
          };
        else {
          const text = respond(r.params);
          const input = tokens([r.params.system ?? '', ...r.params.messages.map((m: any) => String(m.content))].join(''));
          result = {
            type: 'succeeded',
            message: {
              id: `msg_${++seq}`,
              type: 'message',
              role: 'assistant',
              model: r.params.model,
              content: [{ type: 'text', text }],
              stop_reason: 'end_turn',
              stop_sequence: null,
              usage: { input_tokens: input, output_tokens: tokens(text) },
            },
          };
        }
      }
      counts[result.type as keyof typeof counts]++;
      return JSON.stringify({ custom_id: r.custom_id, result });
    });
    b.results = lines.join('\n') + '\n';
    Object.assign(b.obj, {
      processing_status: 'ended',
      request_counts: counts,
      ended_at: iso(),
      results_url: `${origin}/v1/messages/batches/${b.obj.id}/results`,
    });
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, type: string, message: string) =>
    send(res, status, { type: 'error', error: { type, message } });
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (opts.apiKey && req.headers['x-api-key'] !== opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`)
        return error(res, 401, 'authentication_error', 'invalid x-api-key');
      if (!req.headers['anthropic-version']) return error(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
      if (req.method === 'POST' && path === '/v1/messages/batches') {
        const body = JSON.parse(await readBody(req));
        const requests = body.requests;
        if (!Array.isArray(requests) || !requests.length)
          return error(res, 400, 'invalid_request_error', 'requests: at least one request is required');
        if (requests.length > 100_000) return error(res, 400, 'invalid_request_error', 'requests: at most 100000 requests');
        const seen = new Set<string>();
        for (const [i, r] of requests.entries()) {
          if (typeof r?.custom_id !== 'string' || !CUSTOM_ID.test(r.custom_id))
            return error(res, 400, 'invalid_request_error', `requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
          if (seen.has(r.custom_id))
            return error(res, 400, 'invalid_request_error', `requests.${i}.custom_id: duplicate custom_id ${r.custom_id}`);
          seen.add(r.custom_id);
          const p = r.params;
          if (!p || typeof p.model !== 'string' || typeof p.max_tokens !== 'number' || !Array.isArray(p.messages)) {
            return error(res, 400, 'invalid_request_error', `requests.${i}.params: model, max_tokens and messages are required`);
          }
        }
        const id = `msgbatch_${String(++seq).padStart(6, '0')}`;
        const obj = {
          id,
          type: 'message_batch',
          processing_status: 'in_progress',
          request_counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
          ended_at: null,
          created_at: iso(),
          expires_at: iso(Date.now() + 86_400_000),
          archived_at: null,
          cancel_initiated_at: null,
          results_url: null,
        };
        batches.set(id, { obj, requests, polls: 0 });
        return send(res, 200, obj);
      }
      let m = /^\/v1\/messages\/batches\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && m) {
        const b = batches.get(m[1]);
        if (!b) return error(res, 404, 'not_found_error', `batch ${m[1]} not found`);
        polls++;
        b.polls++;
        if (b.obj.processing_status === 'canceling') end(b, true);
        else if (b.obj.processing_status === 'in_progress' && !held && b.polls > 1) end(b, false);
        return send(res, 200, b.obj);
      }
      m = /^\/v1\/messages\/batches\/([^/]+)\/cancel$/.exec(path);
      if (req.method === 'POST' && m) {
        const b = batches.get(m[1]);
        if (!b) return error(res, 404, 'not_found_error', `batch ${m[1]} not found`);
        if (b.obj.processing_status === 'in_progress') Object.assign(b.obj, { processing_status: 'canceling', cancel_initiated_at: iso() });
        return send(res, 200, b.obj);
      }
      m = /^\/v1\/messages\/batches\/([^/]+)\/results$/.exec(path);
      if (req.method === 'GET' && m) {
        const b = batches.get(m[1]);
        if (!b) return error(res, 404, 'not_found_error', `batch ${m[1]} not found`);
        if (!b.results) return error(res, 400, 'invalid_request_error', `batch ${m[1]} is still processing`);
        resultReads++;
        res.writeHead(200, { 'content-type': 'application/binary', 'content-length': Buffer.byteLength(b.results) });
        return res.end(b.results);
      }
      return error(res, 404, 'not_found_error', `no route ${req.method} ${path}`);
    } catch (e) {
      return error(res, 500, 'api_error', (e as Error).message);
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    baseURL: origin,
    stats: () => ({
      batches: batches.size,
      polls,
      resultReads,
      requests: [...batches.values()].reduce((n, b) => n + b.requests.length, 0),
    }),
    pollsOf: (id) => batches.get(id)?.polls ?? 0,
    batchIds: () => [...batches.keys()],
    requestsOf: (id) => batches.get(id)?.requests ?? [],
    hold: () => void (held = true),
    release: () => void (held = false),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
